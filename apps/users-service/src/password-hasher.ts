import { availableParallelism } from 'node:os';
import { byteLength, PASSWORD_MAX_BYTES } from '@um/contracts';
import { Semaphore } from '@um/platform';
import bcrypt from 'bcrypt';

/**
 * bcrypt on libuv's thread pool, never on the event loop, with at most one job per core so a burst of
 * logins queues here instead of starving the pool (and Postgres' DNS/crypto work) for everyone else.
 */
export class PasswordHasher {
  private readonly slots: Semaphore;
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly cost: number,
    concurrency = availableParallelism(),
  ) {
    this.slots = new Semaphore(Math.max(1, concurrency));
  }

  /** Jobs waiting for a slot (the bcrypt queue). */
  get queued(): number {
    return this.slots.pending;
  }

  hash(password: string): Promise<string> {
    return this.slots.run(() => bcrypt.hash(password, this.cost));
  }

  /**
   * Compare a password with a stored hash. Without a hash (unknown user) a hash of the same cost is
   * compared anyway, so both failures take the same time. Over-long passwords never match: bcrypt
   * would silently compare only their first 72 bytes.
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    this.dummyHash ??= bcrypt.hash('timing-equaliser', this.cost);
    const target = hash ?? (await this.dummyHash);
    const ok = await this.slots.run(() => bcrypt.compare(password, target));
    return ok && hash !== undefined && byteLength(password) <= PASSWORD_MAX_BYTES;
  }
}
