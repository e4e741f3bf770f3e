import { UserEvent, type EventMetadata } from '@um/contracts';
import { AppError, uuidv7, violatedUniqueConstraint, type PoolClient } from '@um/platform';
import type pg from 'pg';
import { newDataKey, openPayload, sealPayload } from './pii-codec.js';

/** One stored event as read back. `event` is undefined when its personal data was erased. */
export interface StoredEvent {
  globalPosition: bigint;
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: UserEvent['type'];
  event: UserEvent | undefined;
  metadata: EventMetadata;
  recordedAt: Date;
}

type Queryable = pg.Pool | pg.PoolClient;

interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: UserEvent['type'];
  payload: Record<string, unknown>;
  metadata: EventMetadata;
  recorded_at: Date;
  data_key: Buffer | null;
  /** The id recorded for the stream (user_ids): what events stored before ids were integers are read with. */
  user_number: string | null;
}

/**
 * Upcaster for events stored before user ids were integers: their `user_id` is the stream's UUID.
 * They are read with the id migration 1700000000007 recorded for the stream, so they fold, project
 * and rebuild exactly like events that carry the id themselves.
 */
export function upcastUserId(data: Record<string, unknown>, recordedId: string | number | null): Record<string, unknown> {
  if (typeof data.user_id !== 'string') return data;
  if (recordedId === null) throw new Error('an event of a stream with no recorded user id');
  return { ...data, user_id: Number(recordedId) };
}

function toStored(row: EventRow): StoredEvent {
  const { data, erased } = openPayload(row.payload, row.data_key ?? undefined, row.stream_id);
  return {
    globalPosition: BigInt(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    event: erased ? undefined : UserEvent.parse({ type: row.type, data: upcastUserId(data, row.user_number) }),
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

const SELECT = `SELECT e.global_position, e.event_id, e.stream_id, e.stream_version, e.type, e.payload, e.metadata, e.recorded_at, k.data_key, m.id AS user_number
                  FROM events e LEFT JOIN user_keys k ON k.user_id = e.stream_id LEFT JOIN user_ids m ON m.stream_id = e.stream_id`;

/** All events of one stream in order. */
export async function readStream(db: Queryable, streamId: string): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT} WHERE e.stream_id = $1 ORDER BY e.stream_version`, [streamId]);
  return rows.map(toStored);
}

/** Events after `afterPosition` in global order, `limit` at a time. */
export async function readAll(db: Queryable, afterPosition: bigint, limit: number): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT} WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`, [afterPosition.toString(), limit]);
  return rows.map(toStored);
}

/** One event by its id; undefined for an id never stored. */
export async function readEvent(db: Queryable, eventId: string): Promise<StoredEvent | undefined> {
  const { rows } = await db.query<EventRow>(`${SELECT} WHERE e.event_id = $1`, [eventId]);
  return rows[0] && toStored(rows[0]);
}

/** Whether the stream holds an event of this type after `afterVersion`. */
export async function hasLaterEvent(db: Queryable, streamId: string, type: UserEvent['type'], afterVersion: number): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND type = $2 AND stream_version > $3) AS found', [
    streamId,
    type,
    afterVersion,
  ]);
  return rows[0]!.found;
}

/** When the user's latest event of this type was recorded; null when the stream holds none. */
export async function lastRecordedAt(db: Queryable, userId: number, type: UserEvent['type']): Promise<Date | null> {
  const { rows } = await db.query<{ last: Date | null }>(
    'SELECT max(e.recorded_at) AS last FROM events e JOIN user_ids s ON s.stream_id = e.stream_id WHERE s.id = $1 AND e.type = $2',
    [userId, type],
  );
  return rows[0]?.last ?? null;
}

/** How many events are stored. */
export async function countEvents(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]!.n);
}

/** The user ids recorded for these streams, by stream. */
export async function userIdsOfStreams(db: Queryable, streamIds: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ stream_id: string; id: string }>('SELECT stream_id, id FROM user_ids WHERE stream_id = ANY($1::uuid[])', [streamIds]);
  return new Map(rows.map((r) => [r.stream_id, Number(r.id)]));
}

/** The stream that holds a user's events, by the user's id (deleted users too); undefined for an id never given. */
export async function streamOf(db: Queryable, userId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ stream_id: string }>('SELECT stream_id FROM user_ids WHERE id = $1', [userId]);
  return rows[0]?.stream_id;
}

/** Give a new stream the next user id, in the registering transaction (an aborted registration leaves a gap, never a reuse). */
export async function assignUserId(client: PoolClient, streamId: string): Promise<number> {
  const { rows } = await client.query<{ id: string }>('INSERT INTO user_ids (stream_id) VALUES ($1) RETURNING id', [streamId]);
  return Number(rows[0]!.id);
}

/** Serialise writers of one stream for the rest of the transaction (no xid is taken yet). */
export async function lockStream(client: PoolClient, streamId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [streamId]);
}

/** The stream's data key; created with the stream's first event, destroyed when the user is erased. */
async function dataKey(client: PoolClient, streamId: string, create: boolean): Promise<Buffer | undefined> {
  if (create) {
    const { rows } = await client.query<{ data_key: Buffer }>('INSERT INTO user_keys (user_id, data_key) VALUES ($1, $2) RETURNING data_key', [streamId, newDataKey()]);
    return rows[0]!.data_key;
  }
  const { rows } = await client.query<{ data_key: Buffer }>('SELECT data_key FROM user_keys WHERE user_id = $1', [streamId]);
  return rows[0]?.data_key;
}

/** Destroy a stream's data key: its personal data becomes unreadable everywhere it was stored. */
export async function shredStream(client: PoolClient, streamId: string): Promise<void> {
  await client.query('DELETE FROM user_keys WHERE user_id = $1', [streamId]);
}

/**
 * Append events to a stream expecting it to be at `expectedVersion`, personal data sealed with the
 * stream's key. A concurrent writer that got there first makes UNIQUE (stream_id, stream_version) fail.
 */
export async function appendToStream(
  client: PoolClient,
  streamId: string,
  expectedVersion: number,
  events: UserEvent[],
  metadata: EventMetadata,
  recordedAt: Date,
): Promise<StoredEvent[]> {
  const stored: StoredEvent[] = [];
  const key = events.length ? await dataKey(client, streamId, expectedVersion === 0) : undefined;
  for (const [i, event] of events.entries()) {
    const eventId = uuidv7(recordedAt.getTime());
    const version = expectedVersion + i + 1;
    try {
      const { rows } = await client.query<{ global_position: string }>(
        `INSERT INTO events (event_id, stream_id, stream_version, type, payload, metadata, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING global_position`,
        [eventId, streamId, version, event.type, JSON.stringify(sealPayload(event.data, key, streamId)), JSON.stringify(metadata), recordedAt],
      );
      stored.push({ globalPosition: BigInt(rows[0]!.global_position), eventId, streamId, streamVersion: version, type: event.type, event, metadata, recordedAt });
    } catch (e) {
      if (violatedUniqueConstraint(e) === 'events_stream_id_stream_version_key')
        throw new AppError('already_exists', 'events.version_conflict', 'The user was changed concurrently; try again', undefined, { cause: e });
      throw e;
    }
  }
  return stored;
}
