import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { IDEMPOTENCY_KEY_TTL_SECONDS } from '@um/contracts';
import type { Pool, PoolClient } from './db.js';
import { AppError } from './errors.js';

type Db = Pick<PoolClient, 'query'>;

/** The reply envelope recorded for a key: what the first call answered. */
export type RecordedReply = { ok: true; data: unknown } | { ok: false; error: unknown };

/** One write call that carries an idempotency key, as the owner's store sees it. */
export interface IdempotentCall {
  /** `<rpc name>:<actor or "-">`: a key means something only for one caller and one operation. */
  readonly scope: string;
  readonly key: string;
  /** HMAC of the request: a key reused with another request is refused, not replayed. */
  readonly fingerprint: string;
  /** Seals the recorded reply: derived from the whole request, so only its repeat can read it. */
  readonly sealKey: Buffer;
  /** Set once the outcome is recorded (in the write's own transaction, or after it). */
  recorded: boolean;
}

/** JSON with object keys sorted, so the same request always fingerprints the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency keys of one service, in its own schema (`idempotency_keys`). The outcome of a write
 * is recorded with its key in the write's transaction (`record`), so a repeat of the request finds
 * either nothing (the write never committed: act) or the outcome (answer it again). The primary key
 * is the lock: a concurrent repeat's insert waits for the first transaction and then finds its row.
 * Requests carry passwords and replies tokens and personal data, so neither is stored as such: the
 * request only as an HMAC under a server secret, the reply sealed (AES-256-GCM) under a key derived
 * from the request itself. Rows live `IDEMPOTENCY_KEY_TTL_SECONDS` (24 h), then `purgeExpired` drops them.
 */
export class IdempotencyStore {
  constructor(
    private readonly secret: Buffer,
    private readonly clock: () => Date = () => new Date(),
    readonly ttlSeconds: number = IDEMPOTENCY_KEY_TTL_SECONDS,
  ) {}

  call(rpcName: string, actorId: string | null, key: string, request: unknown): IdempotentCall {
    const canonical = canonicalJson(request);
    const mac = (label: string) => createHmac('sha256', this.secret).update(`${label}\0${rpcName}\0${canonical}`).digest();
    return { scope: `${rpcName}:${actorId ?? '-'}`, key, fingerprint: mac('fingerprint').toString('base64url'), sealKey: mac('seal'), recorded: false };
  }

  /**
   * The recorded outcome of this key, if any live one exists; a key recorded for another request
   * is `invalid_argument` (HTTP 422).
   */
  async find(db: Db, call: IdempotentCall): Promise<RecordedReply | undefined> {
    const { rows } = await db.query<{ fingerprint: string; reply: Buffer }>('SELECT fingerprint, reply FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > $3', [
      call.scope,
      call.key,
      this.cutoff(),
    ]);
    const row = rows[0];
    if (!row) return undefined;
    if (row.fingerprint !== call.fingerprint)
      throw new AppError('invalid_argument', 'idempotency.key_reused', 'This Idempotency-Key was already used with a different request', [
        { field: 'Idempotency-Key', message: 'was already used with a different request' },
      ]);
    return JSON.parse(open(call.sealKey, row.reply)) as RecordedReply;
  }

  /**
   * Record the outcome, inside the write's transaction. A live row for the key (a concurrent
   * repeat committed first) fails the transaction with `idempotency.in_flight`, so this one acts
   * not at all; its caller then answers the recorded outcome.
   */
  async record(db: Db, call: IdempotentCall, reply: RecordedReply): Promise<void> {
    const inserted = await this.insert(db, call, reply);
    if (!inserted) throw new AppError('already_exists', 'idempotency.in_flight', 'A request with this Idempotency-Key was answered meanwhile');
    call.recorded = true;
  }

  /**
   * The successful reply of a write, recorded (`record`) when the call carried a key; returns the
   * reply. What a write's transaction calls last, so the write and its answer commit together.
   */
  async answer<T>(db: Db, call: IdempotentCall | undefined, reply: T): Promise<T> {
    if (call) await this.record(db, call, { ok: true, data: reply });
    return reply;
  }

  /** Record an outcome outside any write (an error, or a write without its own transaction); the first record wins. */
  async recordAfter(pool: Pool, call: IdempotentCall, reply: RecordedReply): Promise<void> {
    await this.insert(pool, call, reply);
    call.recorded = true;
  }

  /** Drop keys older than the TTL; returns how many went. */
  async purgeExpired(db: Db): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE created_at <= $1', [this.cutoff()]);
    return rowCount ?? 0;
  }

  private async insert(db: Db, call: IdempotentCall, reply: RecordedReply): Promise<boolean> {
    // An expired row of the same key is taken over, as if it had been purged already.
    const { rowCount } = await db.query(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, reply, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, reply = EXCLUDED.reply, created_at = EXCLUDED.created_at
       WHERE idempotency_keys.created_at <= $6`,
      [call.scope, call.key, call.fingerprint, seal(call.sealKey, JSON.stringify(reply)), this.clock(), this.cutoff()],
    );
    return rowCount === 1;
  }

  private cutoff(): Date {
    return new Date(this.clock().getTime() - this.ttlSeconds * 1000);
  }
}

/** Drop expired keys now and then every `everyMs`; returns the stop function. */
export function purgeExpiredKeysEvery(pool: Pool, store: IdempotencyStore, everyMs: number, onError: (err: unknown) => void): () => void {
  const run = () => void store.purgeExpired(pool).catch(onError);
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

function seal(key: Buffer, text: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
}
