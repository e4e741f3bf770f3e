import pg from 'pg';

export interface RelayLockOptions {
  databaseUrl: string;
  /** What is locked: at most one holder per name in the database (a Postgres advisory lock). */
  name: string;
  /** How the lock's connection shows in `pg_stat_activity` (at most 63 characters are kept). */
  applicationName: string;
  /** The lock was lost while held (its connection died): someone else may hold it now. */
  onLost?: () => void;
  /** A notification arrived on the lock's connection (for what its holder LISTENs to). */
  onNotification?: () => void;
}

/**
 * One replica's claim to a job only one replica may do at a time (the relay), in the manner of
 * emmett's processor lock: a session-level advisory lock held on a dedicated connection. Acquire
 * tries once without waiting; the lock is held for as long as the connection lives, and lost the
 * moment it dies (`onLost`); release ends the connection, which frees the lock at once.
 */
export class RelayLock {
  private client: pg.Client | undefined;
  private held = false;

  constructor(private readonly o: RelayLockOptions) {}

  /** Whether this instance holds the lock: taken, and its connection not known to be lost. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * The connection that holds the lock, while held. Work that must stop when the lock is lost runs
   * on it: if the connection is gone, so is the work's right to go on.
   */
  get connection(): pg.Client | undefined {
    return this.held ? this.client : undefined;
  }

  /** Try once to take the lock; true when this instance holds it (now or already). */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    const client = this.client ?? (await this.connect());
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [this.o.name]);
    this.held = rows[0]!.ok;
    return this.held;
  }

  /**
   * Whether the lock's connection still answers (true when there is none yet). A dead connection
   * is let go of: the lock, if it was held, is lost (without `onLost`: the caller asked).
   */
  async connectionAlive(): Promise<boolean> {
    if (!this.client) return true;
    const alive = await this.client.query('SELECT 1').then(
      () => true,
      () => false,
    );
    if (!alive) await this.release();
    return alive;
  }

  /** Let go of the lock (ending its connection); safe to call when not held. */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<pg.Client> {
    // Keepalives: a holder whose host vanished must lose the lock in minutes, not hours.
    const client = new pg.Client({
      connectionString: this.o.databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: this.o.applicationName.slice(0, 63),
    });
    // The lock lives and dies with this connection.
    const lost = () => {
      if (this.client !== client) return;
      const wasHeld = this.held;
      this.client = undefined;
      this.held = false;
      if (wasHeld) this.o.onLost?.();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.o.onNotification?.());
    await client.connect();
    this.client = client;
    return client;
  }
}
