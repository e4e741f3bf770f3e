import type { Pool } from '@um/platform';
import { CHECKPOINT } from './relay.js';

/** How far the relay is behind: events committed but not yet published, and how long the oldest has waited. */
export interface RelayLag {
  unpublished: number;
  oldestAgeSeconds: number;
}

/** Read from the event table and the checkpoint, so it is right whichever replica leads (or none does). */
export async function relayLag(pool: Pool, schema: string): Promise<RelayLag> {
  const { rows } = await pool.query<{ unpublished: number; oldest_age: number | null }>(
    `SELECT count(*)::int AS unpublished, EXTRACT(EPOCH FROM clock_timestamp() - min(e.recorded_at))::float8 AS oldest_age
       FROM "${schema}".events e
       LEFT JOIN "${schema}".relay_checkpoints c ON c.name = $1
      WHERE (e.transaction_id, e.global_position) > (COALESCE(c.transaction_id, '0'::xid8), COALESCE(c.global_position, 0))`,
    [CHECKPOINT],
  );
  return { unpublished: rows[0]?.unpublished ?? 0, oldestAgeSeconds: Math.max(rows[0]?.oldest_age ?? 0, 0) };
}
