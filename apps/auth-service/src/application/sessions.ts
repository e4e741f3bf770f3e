import { Rpcs, type LoginReply, type LoginRequest, type SessionTokens, type User } from '@um/contracts';
import { AppError, uuidv7, withTransaction, type PoolClient, type RpcContext } from '@um/platform';
import type { AuthDeps } from './deps.js';
import { claimAttempt, clearAttempts, loginKeys } from './throttle.js';
import { hashToken, issueAccessToken, newRefreshToken } from './tokens.js';

const invalidRefresh = () => new AppError('unauthenticated', 'auth.refresh_invalid', 'The refresh token is invalid, expired or revoked');

/**
 * A new session (refresh-token family) and its first refresh token. Refused when the password was
 * checked before the user's last password change: a login racing a password change cannot keep a
 * session the change was meant to end. The row lock orders this against `markPasswordChanged`.
 */
async function openSession(deps: AuthDeps, client: PoolClient, userId: string, verifiedAt: Date): Promise<{ sessionId: string; refreshToken: string }> {
  await client.query(`INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, 'epoch') ON CONFLICT (user_id) DO NOTHING`, [userId]);
  const { rows } = await client.query<{ sessions_valid_after: Date }>('SELECT sessions_valid_after FROM user_security WHERE user_id = $1 FOR SHARE', [userId]);
  if (rows[0]!.sessions_valid_after > verifiedAt) throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
  const now = deps.clock();
  const sessionId = uuidv7(now.getTime());
  const expires = new Date(now.getTime() + deps.refreshTokenTtl * 1000);
  await client.query('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)', [sessionId, userId, now, expires]);
  return { sessionId, refreshToken: await storeRefreshToken(client, sessionId, now, expires) };
}

/** A new refresh token of a session; only its hash is stored. */
async function storeRefreshToken(client: PoolClient, sessionId: string, now: Date, expires: Date): Promise<string> {
  const { token, hash } = newRefreshToken();
  await client.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [hash, sessionId, now, expires]);
  return token;
}

/** From now on no session may be opened from a password check made before this instant. */
export async function markPasswordChanged(deps: AuthDeps, userId: string): Promise<void> {
  await deps.pool.query(
    `INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET sessions_valid_after = EXCLUDED.sessions_valid_after`,
    [userId, deps.clock()],
  );
}

async function tokensFor(deps: AuthDeps, user: Pick<User, 'id' | 'role'>, sessionId: string, refreshToken: string): Promise<SessionTokens> {
  return {
    access_token: await issueAccessToken(deps.signingKey(), user, sessionId, deps.accessTokenTtl, deps.clock().getTime()),
    token_type: 'bearer',
    expires_in: deps.accessTokenTtl,
    refresh_token: refreshToken,
  };
}

/**
 * Log in with username or email. Every attempt is counted (per account and per client address)
 * before the password is checked; the check itself happens in users-service, where the hash is.
 */
export async function login(deps: AuthDeps, req: LoginRequest, ctx: RpcContext): Promise<LoginReply> {
  const keys = loginKeys(deps, req.username, req.client_ip);
  await claimAttempt(deps, keys);
  const verifiedAt = deps.clock();
  const user = await deps.rpc.call(Rpcs.users.verifyCredentials, { username: req.username, password: req.password }, { requestId: ctx.requestId });
  await clearAttempts(deps, keys[0]!);
  const { sessionId, refreshToken } = await withTransaction(deps.pool, (client) => openSession(deps, client, user.id, verifiedAt));
  ctx.log.info({ user_id: user.id, session_id: sessionId }, 'login succeeded');
  return { ...(await tokensFor(deps, user, sessionId, refreshToken)), user };
}

type RefreshOutcome = { ok: true; userId: string; sessionId: string; refreshToken: string } | { ok: false; revoke?: string; reason: string };

/**
 * Rotate: spend the refresh token, hand out a new one and a new access token. Presenting a spent
 * token again revokes the whole session (RFC 9700 reuse detection). The session row is locked, so
 * concurrent refreshes of one family run one at a time and at most one of them succeeds.
 */
export async function refresh(deps: AuthDeps, token: string, ctx: RpcContext): Promise<SessionTokens> {
  const hash = hashToken(token);
  // The user first (their current role, and whether they still exist): if users-service cannot
  // answer, nothing is spent and the client can simply retry with the same token.
  const owner = await deps.pool.query<{ user_id: string; session_id: string }>(
    'SELECT s.user_id, s.id AS session_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1',
    [hash],
  );
  if (!owner.rows[0]) throw invalidRefresh();
  let user: User;
  try {
    user = await deps.rpc.call(Rpcs.users.get, { user_id: owner.rows[0].user_id }, { requestId: ctx.requestId });
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') {
      await endSessions(deps, owner.rows[0].user_id, { only: owner.rows[0].session_id }, 'user_deleted');
      throw invalidRefresh();
    }
    throw e;
  }

  const outcome = await withTransaction<RefreshOutcome>(deps.pool, async (client) => {
    const now = deps.clock();
    const { rows } = await client.query<{ session_id: string; user_id: string; spent_at: Date | null; expires_at: Date; revoked_at: Date | null; session_expires: Date }>(
      `SELECT t.session_id, s.user_id, t.spent_at, t.expires_at, s.revoked_at, s.expires_at AS session_expires
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1 FOR UPDATE OF s, t`,
      [hash],
    );
    const row = rows[0];
    if (!row || row.revoked_at) return { ok: false, reason: 'unknown or revoked' };
    if (row.spent_at) {
      await client.query("UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh_token_reuse' WHERE id = $1", [row.session_id, now]);
      return { ok: false, revoke: row.session_id, reason: 'reuse detected: session revoked' };
    }
    if (row.expires_at <= now || row.session_expires <= now) return { ok: false, reason: 'expired' };
    await client.query('UPDATE refresh_tokens SET spent_at = $2 WHERE token_hash = $1', [hash, now]);
    const refreshToken = await storeRefreshToken(client, row.session_id, now, row.session_expires);
    await client.query('UPDATE sessions SET last_used_at = $2 WHERE id = $1', [row.session_id, now]);
    return { ok: true, userId: row.user_id, sessionId: row.session_id, refreshToken };
  });
  if (!outcome.ok) {
    if (outcome.revoke) await deps.revokeSessions([outcome.revoke]);
    ctx.log.warn({ reason: outcome.reason, ...(outcome.revoke ? { session_id: outcome.revoke } : {}) }, 'refresh refused');
    throw invalidRefresh();
  }
  return tokensFor(deps, user, outcome.sessionId, outcome.refreshToken);
}

/**
 * End sessions of a user: one (`only`), all but one (`except`), or all. Their refresh tokens stop
 * working at once and their access tokens are refused by every gateway within milliseconds.
 */
export async function endSessions(deps: AuthDeps, userId: string, which: { only?: string; except?: string }, reason: string): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id = $4) AND ($5::uuid IS NULL OR id <> $5)
      RETURNING id`,
    [userId, deps.clock(), reason, which.only ?? null, which.except ?? null],
  );
  // The session of the caller is refused even when it was already revoked in the database.
  const ids = [...new Set([...rows.map((r) => r.id), ...(which.only ? [which.only] : [])])];
  if (ids.length) await deps.revokeSessions(ids);
  return rows.length;
}
