import { PublishedUserEvent, usersEventSubject, type EventMetadata } from '@um/contracts';
import type { Logger, Pool } from '@um/platform';
import pg from 'pg';
import { upcastUserId } from '../event-store/event-store.js';
import { RelayLock } from './relay-lock.js';

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
  /** Told what the relay does, as it does it (metrics, tests). */
  observer?: RelayObserver;
}

/** What a relay reports as it goes. */
export interface RelayObserver {
  /** This replica became the active relay (`true`: a new term) or stopped being it (`false`). */
  leadership?: (leading: boolean) => void;
  /** An event went out (the stream stored it) and the checkpoint moved past it. */
  published?: (event: PublishedUserEvent) => void;
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
  /** The user's id, recorded for the stream (user_ids). */
  user_number: string | null;
}

/** The relay's row in `relay_checkpoints`. */
export const CHECKPOINT = 'jetstream';

/** A place in the outbox's order: (transaction id, global position). */
export interface OutboxPosition {
  transaction_id: string;
  global_position: string;
}

/** Before the first event. */
export const OUTBOX_START: OutboxPosition = { transaction_id: '0', global_position: '0' };

/**
 * The next `limit` events after `from` in (transaction id, position) order, only below the oldest
 * running transaction, so an event committed late is never passed over; each with its user's id.
 */
export async function readOutbox(db: Pool | pg.Client, schema: string, from: OutboxPosition, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT e.global_position, e.transaction_id::text, e.event_id, e.stream_id, e.stream_version, e.type, e.payload, e.metadata, e.recorded_at, m.id AS user_number
       FROM "${schema}".events e LEFT JOIN "${schema}".user_ids m ON m.stream_id = e.stream_id
      WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
        AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.transaction_id, e.global_position
      LIMIT $3`,
    [from.transaction_id, from.global_position, limit],
  );
  return rows;
}

/**
 * The integration event for a stored event: ids and non-personal facts only, validated before it
 * leaves. The user is named by their integer id (an event stored before ids were integers carries
 * the stream UUID, read with the id recorded for the stream); the stream key stays inside.
 */
export function toPublished(row: OutboxRow): PublishedUserEvent {
  const { pii: _sealed, ...clear } = row.payload;
  return PublishedUserEvent.parse({
    event_id: row.event_id,
    type: row.type,
    version: 2,
    stream_version: row.stream_version,
    occurred_at: row.recorded_at.toISOString(),
    ...(row.metadata.request_id ? { request_id: row.metadata.request_id } : {}),
    data: upcastUserId(clear, row.user_number),
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
  private readonly lock: RelayLock;
  /** Holding the lock and listening for new events. */
  private leading = false;
  private wake: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: RelayOptions) {
    this.lock = new RelayLock({
      databaseUrl: o.databaseUrl,
      name: `${o.schema}.relay`,
      applicationName: `relay:${o.schema}`,
      // Losing the lock's connection means we are no longer the leader.
      onLost: () => {
        if (this.leading) this.o.log.warn('relay: lost the leader connection');
        this.stepDown();
        this.wake?.();
      },
      onNotification: () => {
        this.woken = true;
        this.wake?.();
      },
    });
  }

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
        if (!this.leading) await this.lead();
        if (!this.leading) {
          await this.sleep(Math.max(this.o.pollMs, 1000));
          continue;
        }
        await this.o.prepare?.();
        while (this.running && (await this.pass()) > 0);
        backoff = this.o.pollMs;
        await this.sleep(this.o.pollMs);
      } catch (err) {
        this.o.log.warn({ err: String(err), retry_ms: backoff }, 'relay: publishing paused');
        if (!(await this.lock.connectionAlive())) this.stepDown();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
    this.stepDown();
    await this.lock.release();
  }

  /** Try to become the one active relay for this schema. */
  private async lead(): Promise<void> {
    if (!(await this.lock.tryAcquire())) return;
    await this.lock.connection!.query(`LISTEN "${this.o.schema}_events"`);
    this.leading = true;
    this.o.observer?.leadership?.(true);
    this.o.log.info('relay: active on this replica');
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.o.observer?.leadership?.(false);
  }

  /**
   * Publish the next batch; returns how many events went out. The leader reads and checkpoints on
   * the connection that holds the lock, so if that connection is gone it cannot go on as if it
   * still led.
   */
  async pass(): Promise<number> {
    const { schema } = this.o;
    const leaderConnection = this.leading ? this.lock.connection : undefined;
    const pool: Pool | pg.Client = leaderConnection ?? this.o.pool;
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
      this.o.observer?.published?.(event);
    }
    return rows.length;
  }
}
