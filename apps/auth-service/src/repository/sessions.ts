import type { Pool, PoolClient } from '@um/platform';

/** The pool, or a transaction's client. */
type Db = Pool | PoolClient;

/**
 * The SQL of sessions (refresh-token families), their refresh tokens (only hashes are kept) and the
 * users' password epochs (`user_security`). No rules here: see ../domain.
 */

/**
 * The instant before which no password check may open a session of this user, read under a share
 * lock that orders it against a password change (`setSessionsValidAfter`). Creates the user's row.
 */
export async function lockSessionsValidAfter(client: PoolClient, userId: number): Promise<Date> {
  await client.query(`INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, 'epoch') ON CONFLICT (user_id) DO NOTHING`, [userId]);
  const { rows } = await client.query<{ sessions_valid_after: Date }>('SELECT sessions_valid_after FROM user_security WHERE user_id = $1 FOR SHARE', [userId]);
  return rows[0]!.sessions_valid_after;
}

export async function setSessionsValidAfter(db: Db, userId: number, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET sessions_valid_after = EXCLUDED.sessions_valid_after`,
    [userId, at],
  );
}

export async function insertSession(client: PoolClient, s: { id: string; userId: number; createdAt: Date; expiresAt: Date }): Promise<void> {
  await client.query('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)', [s.id, s.userId, s.createdAt, s.expiresAt]);
}

export async function insertRefreshToken(client: PoolClient, t: { hash: Buffer; sessionId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
  await client.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [t.hash, t.sessionId, t.createdAt, t.expiresAt]);
}

/** The session a refresh token belongs to and its user: by integer id, or by UUID for a session from before ids were integers. */
export async function findTokenSession(db: Db, hash: Buffer): Promise<{ user_id: string | null; legacy_user_id: string | null; session_id: string } | undefined> {
  const { rows } = await db.query<{ user_id: string | null; legacy_user_id: string | null; session_id: string }>(
    'SELECT s.user_id, s.legacy_user_id, s.id AS session_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1',
    [hash],
  );
  return rows[0];
}

export interface RefreshTokenRow {
  session_id: string;
  spent_at: Date | null;
  expires_at: Date;
  successor_enc: Buffer | null;
}

export interface LockedRefreshTokenRow extends RefreshTokenRow {
  revoked_at: Date | null;
  session_expires: Date;
  session_created: Date;
}

/** A refresh token with its session, both locked: concurrent refreshes of one family run one at a time. */
export async function lockRefreshToken(client: PoolClient, hash: Buffer): Promise<LockedRefreshTokenRow | undefined> {
  const { rows } = await client.query<LockedRefreshTokenRow>(
    `SELECT t.session_id, t.spent_at, t.expires_at, t.successor_enc, s.revoked_at, s.expires_at AS session_expires, s.created_at AS session_created
       FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
      WHERE t.token_hash = $1 FOR UPDATE OF s, t`,
    [hash],
  );
  return rows[0];
}

export async function readRefreshToken(client: PoolClient, hash: Buffer): Promise<RefreshTokenRow | undefined> {
  const { rows } = await client.query<RefreshTokenRow>('SELECT session_id, spent_at, expires_at, successor_enc FROM refresh_tokens WHERE token_hash = $1', [hash]);
  return rows[0];
}

/** Rotate: the token is spent now and keeps its successor, sealed under it. */
export async function spendRefreshToken(client: PoolClient, hash: Buffer, spentAt: Date, successorSealed: Buffer): Promise<void> {
  await client.query('UPDATE refresh_tokens SET spent_at = $2, successor_enc = $3 WHERE token_hash = $1', [hash, spentAt, successorSealed]);
}

export async function touchSession(client: PoolClient, sessionId: string, at: Date): Promise<void> {
  await client.query('UPDATE sessions SET last_used_at = $2 WHERE id = $1', [sessionId, at]);
}

/** End one session, unless it has ended already. */
export async function revokeSession(client: PoolClient, sessionId: string, at: Date, reason: string): Promise<void> {
  await client.query('UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL', [sessionId, at, reason]);
}

/** End a user's live sessions: one (`only`), all but one (`except`), or all. Returns the ids ended. */
export async function revokeUserSessions(db: Db, userId: number, which: { only?: string; except?: string }, at: Date, reason: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id = $4) AND ($5::uuid IS NULL OR id <> $5)
      RETURNING id`,
    [userId, at, reason, which.only ?? null, which.except ?? null],
  );
  return rows.map((r) => r.id);
}

/** When a live session of this user was opened; undefined when it is not theirs or has ended. */
export async function liveSessionOpenedAt(db: Db, sessionId: string, userId: number): Promise<Date | undefined> {
  const { rows } = await db.query<{ created_at: Date }>('SELECT created_at FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [sessionId, userId]);
  return rows[0]?.created_at;
}
