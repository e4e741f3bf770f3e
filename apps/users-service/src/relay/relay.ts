import { PublishedUserEvent, usersEventSubject, type EventMetadata } from '@um/contracts';
import type { Logger, Pool } from '@um/platform';
import pg from 'pg';

/** Publish one event; resolves once the stream has stored it (or knew it already, by id). */
export type Publish = (subject: string, payload: string, eventId: string) => Promise<void>;

export interface RelayOptions {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  namespace: string | undefined;
  publish: Publish;
  log: Logger;
  pollMs: number;
  batchSize?: number;
  /** Made ready before publishing (e.g. create the stream); retried until it succeeds. */
  prepare?: () => Promise<void>;
  /** Side effects an event must have had before it counts as published (token revocations); a failure retries the event. */
  beforePublish?: (event: PublishedUserEvent) => Promise<void>;
}

export interface OutboxRow {
  global_position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  payload: Record<string, unknown>;
  metadata: EventMetadata;
  recorded_at: Date;
}

const CHECKPOINT = 'jetstream';

/** A place in the outbox's order: (transaction id, global position). */
export interface OutboxPosition {
  transaction_id: string;
  global_position: string;
}

/** Before the first event. */
export const OUTBOX_START: OutboxPosition = { transaction_id: '0', global_position: '0' };

/**
 * The next `limit` events after `from` in (transaction id, position) order, only below the oldest
 * running transaction, so an event committed late is never passed over.
 */
export async function readOutbox(db: Pool | pg.Client, schema: string, from: OutboxPosition, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT global_position, transaction_id::text, event_id, stream_id, stream_version, type, payload, metadata, recorded_at
       FROM "${schema}".events
      WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
        AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY transaction_id, global_position
      LIMIT $3`,
    [from.transaction_id, from.global_position, limit],
  );
  return rows;
}

/** The integration event for a stored event: ids and non-personal facts only, validated before it leaves. */
export function toPublished(row: OutboxRow): PublishedUserEvent {
  const { pii: _sealed, ...clear } = row.payload;
  return PublishedUserEvent.parse({
    event_id: row.event_id,
    type: row.type,
    version: 1,
    stream_id: row.stream_id,
    stream_version: row.stream_version,
    occurred_at: row.recorded_at.toISOString(),
    ...(row.metadata.request_id ? { request_id: row.metadata.request_id } : {}),
    data: clear,
  });
}

/**
 * The event table is the outbox. One replica at a time (a Postgres advisory lock held on a
 * dedicated connection) reads events in (transaction id, position) order, only below the oldest
 * running transaction, so an event committed late is never passed over; publishes each with its
 * event id as `Nats-Msg-Id`; and records the checkpoint. LISTEN/NOTIFY wakes it; polling is the
 * safety net. If it dies between publish and checkpoint, the republish is dropped by JetStream's
 * duplicate window.
 */
export class EventRelay {
  private running = false;
  private client: pg.Client | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  /** Events this instance has published (for tests and metrics). */
  published = 0;
  isLeader = false;
  /** Times this instance became the leader. */
  terms = 0;

  constructor(private readonly o: RelayOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || !this.running) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        // Consumed: a notification arriving while no sleep is pending sets `woken` for the next one.
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = this.o.pollMs;
    while (this.running) {
      try {
        if (!this.isLeader) await this.lead();
        if (!this.isLeader) {
          await this.sleep(Math.max(this.o.pollMs, 1000));
          continue;
        }
        await this.o.prepare?.();
        while (this.running && (await this.pass()) > 0);
        backoff = this.o.pollMs;
        await this.sleep(this.o.pollMs);
      } catch (err) {
        this.o.log.warn({ err: String(err), retry_ms: backoff }, 'relay: publishing paused');
        if (this.client && !(await this.alive())) await this.resign();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
    await this.resign();
  }

  /** Try to become the one active relay for this schema. */
  private async lead(): Promise<void> {
    if (!this.client) {
      // Keepalives: a leader whose host vanished must lose the lock in minutes, not hours.
      const client = new pg.Client({
        connectionString: this.o.databaseUrl,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        application_name: `relay:${this.o.schema}`.slice(0, 63),
      });
      // The lock lives and dies with this connection: losing it means we are no longer the leader.
      const lost = () => {
        if (this.client !== client) return;
        this.client = undefined;
        if (this.isLeader) this.o.log.warn('relay: lost the leader connection');
        this.isLeader = false;
        this.wake?.();
      };
      client.on('error', lost);
      client.on('end', lost);
      client.on('notification', () => {
        this.woken = true;
        this.wake?.();
      });
      await client.connect();
      this.client = client;
    }
    const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [`${this.o.schema}.relay`]);
    if (!rows[0]!.ok) return;
    await this.client.query(`LISTEN "${this.o.schema}_events"`);
    this.isLeader = true;
    this.terms++;
    this.o.log.info('relay: active on this replica');
  }

  private async alive(): Promise<boolean> {
    return this.client!.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  private async resign(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.isLeader = false;
    await client?.end().catch(() => undefined);
  }

  /**
   * Publish the next batch; returns how many events went out. The leader reads and checkpoints on
   * the connection that holds the lock, so if that connection is gone it cannot go on as if it
   * still led.
   */
  async pass(): Promise<number> {
    const { schema } = this.o;
    const pool: Pool | pg.Client = this.isLeader && this.client ? this.client : this.o.pool;
    const cp = await pool.query<{ transaction_id: string; global_position: string }>(
      `SELECT transaction_id::text, global_position FROM "${schema}".relay_checkpoints WHERE name = $1`,
      [CHECKPOINT],
    );
    const from = cp.rows[0] ?? OUTBOX_START;
    const rows = await readOutbox(pool, schema, from, this.o.batchSize ?? 100);
    for (const row of rows) {
      const event = toPublished(row);
      await this.o.beforePublish?.(event);
      await this.o.publish(usersEventSubject(this.o.namespace, event.type), JSON.stringify(event), event.event_id);
      await pool.query(
        `INSERT INTO "${schema}".relay_checkpoints (name, transaction_id, global_position, updated_at) VALUES ($1, $2::xid8, $3, now())
         ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()`,
        [CHECKPOINT, row.transaction_id, row.global_position],
      );
      this.published++;
    }
    return rows.length;
  }
}
