import { UserEvent, type EventMetadata } from '@um/contracts';
import { AppError, uuidv7, type PoolClient } from '@um/platform';
import type pg from 'pg';

/** One stored event as read back. */
export interface StoredEvent {
  globalPosition: bigint;
  eventId: string;
  streamId: string;
  streamVersion: number;
  event: UserEvent;
  metadata: EventMetadata;
  recordedAt: Date;
}

type Queryable = pg.Pool | pg.PoolClient;

interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  payload: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

function toStored(row: EventRow): StoredEvent {
  return {
    globalPosition: BigInt(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    event: UserEvent.parse({ type: row.type, data: row.payload }),
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

const COLUMNS = 'global_position, event_id, stream_id, stream_version, type, payload, metadata, recorded_at';

/** All events of one stream in order; `forUpdate` serialises writers of that stream for the transaction. */
export async function readStream(db: Queryable, streamId: string): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
  return rows.map(toStored);
}

/** Events after `afterPosition` in global order, `limit` at a time. */
export async function readAll(db: Queryable, afterPosition: bigint, limit: number): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
    [afterPosition.toString(), limit],
  );
  return rows.map(toStored);
}

/**
 * Append events to a stream expecting it to be at `expectedVersion`. A concurrent writer that got
 * there first makes the UNIQUE (stream_id, stream_version) constraint fail: reported as a conflict.
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
  for (const [i, event] of events.entries()) {
    const eventId = uuidv7(recordedAt.getTime());
    try {
      const { rows } = await client.query<{ global_position: string }>(
        `INSERT INTO events (event_id, stream_id, stream_version, type, payload, metadata, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING global_position`,
        [eventId, streamId, expectedVersion + i + 1, event.type, JSON.stringify(event.data), JSON.stringify(metadata), recordedAt],
      );
      stored.push({
        globalPosition: BigInt(rows[0]!.global_position),
        eventId,
        streamId,
        streamVersion: expectedVersion + i + 1,
        event,
        metadata,
        recordedAt,
      });
    } catch (e) {
      if ((e as { code?: string; constraint?: string }).code === '23505' && (e as { constraint?: string }).constraint === 'events_stream_id_stream_version_key')
        throw new AppError('already_exists', 'events.version_conflict', 'The user was changed concurrently; try again', undefined, { cause: e });
      throw e;
    }
  }
  return stored;
}
