import { usersEventSubject } from '@um/contracts';
import type { Pool } from '@um/platform';
import { OUTBOX_START, readOutbox, toPublished, type OutboxPosition, type Publish } from './relay.js';

export interface ReplayOptions {
  pool: Pool;
  schema: string;
  namespace: string | undefined;
  publish: Publish;
  /** Events published at once (each still carries its id, so the stream drops what it already holds within its duplicate window). */
  batchSize?: number;
  /** Events republished so far, of how many there were when the replay began. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Republish every stored event, in the relay's order, to the events stream (a new or emptied one,
 * say), as the relay published them: thin, validated, the event id as `Nats-Msg-Id`. It reads on
 * its own and leaves the relay's checkpoint alone, so the live relay carries on beside it. Events
 * appended after the replay began are left to the relay. Revocations are not written again: each
 * was written when its event was first published.
 */
export async function replayEvents(o: ReplayOptions): Promise<number> {
  const { rows } = await o.pool.query<OutboxPosition & { n: string }>(
    `SELECT count(*) OVER () AS n, transaction_id::text, global_position FROM "${o.schema}".events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  const last = rows[0];
  const total = Number(last?.n ?? 0);
  o.onProgress?.(0, total);
  if (!last) return 0;
  const upTo = (r: OutboxPosition) =>
    BigInt(r.transaction_id) < BigInt(last.transaction_id) || (r.transaction_id === last.transaction_id && BigInt(r.global_position) <= BigInt(last.global_position));
  const reachedLast = (r: OutboxPosition) => r.transaction_id === last.transaction_id && r.global_position === last.global_position;
  let from = OUTBOX_START;
  let done = 0;
  while (!reachedLast(from)) {
    const batch = await readOutbox(o.pool, o.schema, from, o.batchSize ?? 200);
    const inScope = batch.filter(upTo);
    if (!inScope.length) {
      if (batch.length) break;
      // The rest is held back behind a transaction still open (the relay waits for it too).
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    await Promise.all(
      inScope.map((row) => {
        const event = toPublished(row);
        return o.publish(usersEventSubject(o.namespace, event.type), JSON.stringify(event), event.event_id);
      }),
    );
    done += inScope.length;
    from = inScope[inScope.length - 1]!;
    o.onProgress?.(done, Math.max(total, done));
  }
  return done;
}
