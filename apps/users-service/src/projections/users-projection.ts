import { identityKey, type User, type UserEvent } from '@um/contracts';
import { AppError, violatedUniqueConstraint, type PoolClient } from '@um/platform';
import type pg from 'pg';
import { usernameSkeleton } from '../domain/username-skeleton.js';
import { readAll, type StoredEvent } from '../event-store/event-store.js';

export interface UserRow {
  /** bigint: pg reads it as a string. */
  id: string;
  username: string;
  email: string;
  /** fio, birthday, tags and the declared attributes; a cleared attribute is stored as null. */
  config: { tags: string[] } & Record<string, unknown>;
  role: 'user' | 'admin';
  email_verified: boolean;
  created_at: Date;
  updated_at: Date;
}

export const USER_COLUMNS = 'id, username, email, config, role, email_verified, created_at, updated_at';

export function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    username: row.username,
    email: row.email,
    // Cleared attributes (null) are left out: the user simply has none.
    config: { ...Object.fromEntries(Object.entries(row.config).filter(([, v]) => v !== null)), tags: row.config.tags },
    role: row.role,
    email_verified: row.email_verified,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const UNIQUE_FIELD: Record<string, 'username' | 'email' | 'lookalike'> = {
  users_username_key_uniq: 'username',
  users_email_key_uniq: 'email',
  users_username_skeleton_uniq: 'lookalike',
};

/** The 409 for taken usernames or emails, naming each field; `lookalike`: the username looks like a taken one. */
export function takenError(fields: Array<'username' | 'email' | 'lookalike'>, cause?: unknown): AppError {
  const named = fields.map((f) => (f === 'lookalike' ? 'username' : f));
  return new AppError(
    'already_exists',
    fields[0] === 'lookalike' ? 'users.username_lookalike' : `users.${fields[0]!}_taken`,
    `A user with this ${named.join(' and ')} already exists`,
    fields.map((f) => (f === 'lookalike' ? { field: 'username', message: 'is too similar to an existing username' } : { field: f, message: 'is already taken' })),
    { cause },
  );
}

/** A unique-index violation on username or email, as the 409 naming the field. */
function uniqueViolation(e: unknown): unknown {
  const field = UNIQUE_FIELD[violatedUniqueConstraint(e) ?? ''];
  if (!field) return e;
  return takenError([field], e);
}

/**
 * Refuse a username or email another user holds (ignoring case), before any costly work. The unique
 * indexes still decide the races that slip past this look-up.
 */
export async function assertNotTaken(db: pg.Pool | pg.PoolClient, wanted: { username?: string | undefined; email?: string | undefined }, exceptId?: number): Promise<void> {
  const { rows } = await db.query<{ username_taken: boolean; email_taken: boolean; lookalike_taken: boolean }>(
    `SELECT bool_or(username_key = $1) AS username_taken, bool_or(email_key = $2) AS email_taken,
            bool_or(username_skeleton = $4 AND username_key <> $1) AS lookalike_taken
       FROM users WHERE (username_key = $1 OR email_key = $2 OR username_skeleton = $4) AND ($3::bigint IS NULL OR id <> $3)`,
    [
      wanted.username ? identityKey(wanted.username) : null,
      wanted.email ? identityKey(wanted.email) : null,
      exceptId ?? null,
      wanted.username ? usernameSkeleton(wanted.username) : null,
    ],
  );
  // An exact match says more than a look-alike: name the username once.
  const taken = (['username', 'lookalike', 'email'] as const).filter((f) => rows[0]?.[`${f}_taken`] && !(f === 'lookalike' && rows[0]?.username_taken));
  if (taken.length) throw takenError(taken);
}

/** The user row and its password hash, for password checks only (the hash never leaves this service). */
export async function findWithPasswordHash(db: pg.Pool | pg.PoolClient, where: string, params: unknown[]): Promise<(UserRow & { password_hash: string }) | undefined> {
  const { rows } = await db.query<UserRow & { password_hash: string }>(
    `SELECT ${USER_COLUMNS.split(', ')
      .map((c) => `u.${c}`)
      .join(', ')}, c.password_hash
       FROM users u JOIN credentials c ON c.user_id = u.id WHERE ${where}`,
    params,
  );
  return rows[0];
}

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
  const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM events');
  const total = Number(rows[0]!.n);
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
