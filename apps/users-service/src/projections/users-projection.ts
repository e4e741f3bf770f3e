import { identityKey, type UserEvent } from '@um/contracts';
import type { PoolClient } from '@um/platform';
import type pg from 'pg';
import { usernameSkeleton } from '../domain/username-skeleton.js';
import { countEvents, readAll, type StoredEvent } from '../event-store/event-store.js';
import { uniqueViolation } from '../read-model/taken-names.js';

/**
 * How a username's skeleton is written. `refuse` (live appends): a look-alike of a taken name
 * violates the unique index and the command fails with 409. `grandfather` (rebuilds, which hold the
 * table locked): history may hold look-alikes accepted before the rule existed; the later one keeps
 * no skeleton instead of aborting the rebuild.
 */
export type LookAlikes = 'refuse' | 'grandfather';

/** SQL for the skeleton value `$n` of row `$1` under the given mode. */
const skeletonValue = (n: number, mode: LookAlikes) =>
  mode === 'refuse' ? `$${n}::text` : `CASE WHEN EXISTS (SELECT 1 FROM users WHERE username_skeleton = $${n} AND id <> $1) THEN NULL ELSE $${n}::text END`;

/** The projection columns a registration fills, in the order of `registrationRow`'s values. */
export const REGISTRATION_COLUMNS = [
  'id',
  'username',
  'username_key',
  'email',
  'email_key',
  'config',
  'role',
  'email_verified',
  'created_at',
  'updated_at',
  'version',
  'username_skeleton',
] as const;

type Registered = Extract<UserEvent, { type: 'UserRegistered' }>['data'];

/** The users row of a `UserRegistered` event (one value per REGISTRATION_COLUMNS entry); bulk loads use it too. */
export function registrationRow(d: Registered, recordedAt: Date, streamVersion: number): unknown[] {
  return [
    d.user_id,
    d.username,
    identityKey(d.username),
    d.email,
    identityKey(d.email),
    JSON.stringify({ ...d.attributes, fio: d.fio, birthday: d.birthday, tags: d.tags }),
    d.role,
    false,
    recordedAt,
    recordedAt,
    streamVersion,
    usernameSkeleton(d.username),
  ];
}

/** Apply one event to the users table. Runs inside the appending transaction (and in rebuilds). */
export async function project(client: pg.PoolClient, stored: StoredEvent, lookAlikes: LookAlikes = 'refuse'): Promise<void> {
  const { event, recordedAt, streamVersion } = stored;
  // An erased event belongs to a deleted user: nothing of it is shown.
  if (!event) return;
  switch (event.type) {
    case 'UserRegistered': {
      const row = registrationRow(event.data, recordedAt, streamVersion);
      try {
        await client.query(
          `INSERT INTO users (${REGISTRATION_COLUMNS.join(', ')})
           VALUES (${row.map((_, i) => (i === row.length - 1 ? skeletonValue(i + 1, lookAlikes) : `$${i + 1}`)).join(', ')})`,
          row,
        );
      } catch (e) {
        throw uniqueViolation(e);
      }
      return;
    }
    case 'UserProfileUpdated': {
      const c = event.data.changes;
      const to = <T>(f: keyof typeof c) => (c[f] ? (c[f].to as T) : null);
      try {
        await client.query(
          `UPDATE users SET
             username = COALESCE($2, username), username_key = COALESCE($3, username_key),
             username_skeleton = CASE WHEN $9::text IS NULL THEN username_skeleton ELSE ${skeletonValue(9, lookAlikes)} END,
             email = COALESCE($4, email), email_key = COALESCE($5, email_key),
             email_verified = CASE WHEN $4::text IS NULL THEN email_verified ELSE false END,
             config = config || $6::jsonb, updated_at = $7, version = $8
           WHERE id = $1`,
          [
            event.data.user_id,
            to<string>('username'),
            c.username ? identityKey(c.username.to as string) : null,
            to<string>('email'),
            c.email ? identityKey(c.email.to as string) : null,
            // Everything but the row's own columns lives in config: fio, birthday, tags and the declared attributes.
            JSON.stringify(
              Object.fromEntries(
                Object.entries(c)
                  .filter(([f]) => f !== 'username' && f !== 'email')
                  .map(([f, change]) => [f, change.to ?? null]),
              ),
            ),
            recordedAt,
            streamVersion,
            c.username ? usernameSkeleton(c.username.to as string) : null,
          ],
        );
      } catch (e) {
        throw uniqueViolation(e);
      }
      return;
    }
    case 'PasswordChanged':
      await client.query('UPDATE users SET updated_at = $2, version = $3 WHERE id = $1', [event.data.user_id, recordedAt, streamVersion]);
      return;
    case 'UserRoleChanged':
      await client.query('UPDATE users SET role = $2, updated_at = $3, version = $4 WHERE id = $1', [event.data.user_id, event.data.role, recordedAt, streamVersion]);
      return;
    case 'UserDeleted':
      await client.query('DELETE FROM users WHERE id = $1', [event.data.user_id]);
      return;
    case 'EmailConfirmed':
      await client.query('UPDATE users SET email_verified = true, updated_at = $2, version = $3 WHERE id = $1', [event.data.user_id, recordedAt, streamVersion]);
      return;
    case 'PasswordReset':
      await client.query('UPDATE users SET updated_at = $2, version = $3 WHERE id = $1', [event.data.user_id, recordedAt, streamVersion]);
      return;
    case 'EmailConfirmationRequested':
    case 'PasswordResetRequested':
    case 'MfaEnabled':
    case 'MfaDisabled':
    case 'EmailChangeRequested':
    case 'EmailChangeCancelled':
      await client.query('UPDATE users SET version = $2 WHERE id = $1', [event.data.user_id, streamVersion]);
      return;
  }
}

/** How far a rebuild is: events projected so far, of how many. */
export type RebuildProgress = (done: number, total: number) => void;

/**
 * Drop the projection and replay every event into it, in one transaction: readers see old or new,
 * never half. Look-alike usernames accepted before skeletons existed are grandfathered, not fatal.
 * Ids come from the events (see the event store for those stored before ids were integers); the
 * assignment table gets back any row it lost, and its identity never falls behind the ids in use.
 */
export async function rebuildUsersProjection(client: PoolClient, opts: { batchSize?: number; onProgress?: RebuildProgress } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? 1000;
  await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  await client.query('DELETE FROM users');
  const total = await countEvents(client);
  let position = 0n;
  let count = 0;
  opts.onProgress?.(0, total);
  for (;;) {
    const batch = await readAll(client, position, batchSize);
    if (!batch.length) break;
    for (const stored of batch) {
      if (stored.event?.type === 'UserRegistered')
        await client.query('INSERT INTO user_ids (id, stream_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [stored.event.data.user_id, stored.streamId]);
      await project(client, stored, 'grandfather');
    }
    count += batch.length;
    position = batch[batch.length - 1]!.globalPosition;
    opts.onProgress?.(count, Math.max(total, count));
  }
  // Only ever forward: a registration waiting on the lock may hold a later id already.
  await client.query(
    `SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('user_ids', 'id')::regclass AS s, (SELECT max(id) FROM user_ids) AS m) x
      WHERE m > COALESCE(pg_sequence_last_value(s), 0)`,
  );
  return count;
}
