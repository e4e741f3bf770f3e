import { Rpcs, type LoginRequest, type LoginRpcReply, type LoginTokens, type SessionTokens, type TokenSubject } from '@um/contracts';
import { AppError, sha256, uuidv7, withTransaction, type PoolClient, type RpcContext } from '@um/platform';
import type { AuthDeps } from './deps.js';
import { issueDeviceToken, readDeviceToken } from './devices.js';
import { resolveLegacyUsers } from './legacy-users.js';
import { loginKeys, secondFactorKey, throttled } from './throttle.js';
import { issueAccessToken, newRefreshToken, openSuccessor, sealSuccessor } from './tokens.js';
import { randomBytes } from 'node:crypto';

const invalidRefresh = () => new AppError('unauthenticated', 'auth.refresh_invalid', 'The refresh token is invalid, expired or revoked');

/**
 * A new session (refresh-token family) and its first refresh token. Refused when the password was
 * checked before the user's last password change: a login racing a password change cannot keep a
 * session the change was meant to end. The row lock orders this against `markPasswordChanged`.
 */
async function openSession(deps: AuthDeps, client: PoolClient, userId: number, verifiedAt: Date): Promise<{ sessionId: string; refreshToken: string }> {
  await client.query(`INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, 'epoch') ON CONFLICT (user_id) DO NOTHING`, [userId]);
  const { rows } = await client.query<{ sessions_valid_after: Date }>('SELECT sessions_valid_after FROM user_security WHERE user_id = $1 FOR SHARE', [userId]);
  if (rows[0]!.sessions_valid_after > verifiedAt) throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
  const now = deps.clock();
  const sessionId = uuidv7(now.getTime());
  const expires = new Date(now.getTime() + deps.refreshTokenTtl * 1000);
  await client.query('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)', [sessionId, userId, now, expires]);
  const { token, hash } = newRefreshToken();
  await client.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [hash, sessionId, now, expires]);
  return { sessionId, refreshToken: token };
}

/** From now on no session may be opened from a password check made before this instant. */
export async function markPasswordChanged(deps: AuthDeps, userId: number): Promise<void> {
  await deps.pool.query(
    `INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET sessions_valid_after = EXCLUDED.sessions_valid_after`,
    [userId, deps.clock()],
  );
}

/** Tokens for a session, with the role and authorization version read right before signing. */
async function tokensFor(deps: AuthDeps, subject: TokenSubject, sessionId: string, refreshToken: string): Promise<SessionTokens> {
  return {
    access_token: await issueAccessToken(deps.signingKey(), subject, sessionId, deps.accessTokenTtl, deps.clock().getTime()),
    token_type: 'bearer',
    expires_in: deps.accessTokenTtl,
    refresh_token: refreshToken,
  };
}

/** Only a refused password counts as a failed attempt; an unreachable users-service counts nothing. */
const isWrongPassword = (err: unknown) => err instanceof AppError && err.code === 'unauthenticated';

/**
 * Log in with username or email. The attempt is claimed on the throttle before the password is
 * checked (in users-service, where the hash is) and settled by the outcome: only a wrong password
 * counts. The account counter is the account's, whichever of its names was typed, or this device's
 * when the caller presents a device cookie of that account; every success renews the cookie.
 */
export async function login(deps: AuthDeps, req: LoginRequest, ctx: RpcContext): Promise<LoginRpcReply> {
  const meta = { requestId: ctx.requestId };
  const account = await deps.rpc.call(Rpcs.users.resolveLogin, { login: req.username }, meta);
  const device = readDeviceToken(deps.deviceSecret, req.device_token);
  const deviceId = device && account.user_id && device.userId === account.user_id ? device.id : undefined;
  const keys = loginKeys(deps, { subject: account.subject, userId: account.user_id, deviceId }, req.client_ip);
  const verifiedAt = deps.clock();
  const user = await throttled(deps, keys, () => deps.rpc.call(Rpcs.users.verifyCredentials, { username: req.username, password: req.password }, meta), isWrongPassword);
  const subject = await deps.rpc.call(Rpcs.users.tokenSubject, { user_id: user.id }, meta);
  if (subject.mfa) {
    const ticket = randomBytes(32).toString('base64url');
    await deps.pool.query('INSERT INTO mfa_tickets (ticket_hash, user_id, verified_at, device_id, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      sha256(ticket),
      user.id,
      verifiedAt,
      deviceId ?? null,
      new Date(deps.clock().getTime() + deps.mfaTicketTtlSeconds * 1000),
    ]);
    ctx.log.info({ user_id: user.id }, 'password accepted; second factor required');
    return { status: 'mfa_required', mfa_ticket: ticket, expires_in: deps.mfaTicketTtlSeconds };
  }
  // The session and the record of its answer under the idempotency key commit together: a repeat of
  // the request gets these same tokens and never opens a second session.
  const { sessionId, reply } = await withTransaction(deps.pool, async (client) => {
    const opened = await openSession(deps, client, user.id, verifiedAt);
    const tokens = await tokensFor(deps, subject, opened.sessionId, opened.refreshToken);
    return {
      sessionId: opened.sessionId,
      reply: await deps.idempotency.answer(client, ctx.idempotency, { ...tokens, user, device_token: issueDeviceToken(deps.deviceSecret, user.id, deviceId) }),
    };
  });
  ctx.log.info({ user_id: user.id, session_id: sessionId, known_device: deviceId !== undefined }, 'login succeeded');
  return reply;
}

const invalidTicket = () => new AppError('unauthenticated', 'auth.mfa_ticket_invalid', 'The login ticket is invalid, expired or already used; log in again');
const isWrongCode = (err: unknown) => err instanceof AppError && err.id === 'users.mfa_code_invalid';

/**
 * `POST /login/mfa`: the second step. The ticket names the account (the code is checked against
 * that account only) and is spent by the login it completes; wrong codes are throttled per
 * account like wrong passwords and leave the ticket usable until it expires. The session counts
 * from the password check, so a password change since then refuses it.
 */
export async function loginMfa(
  deps: AuthDeps,
  req: { ticket: string; code: string; client_ip?: string | undefined; device_token?: string | undefined },
  ctx: RpcContext,
): Promise<LoginTokens> {
  const meta = { requestId: ctx.requestId };
  const ticketHash = sha256(req.ticket);
  const { rows } = await deps.pool.query<{ user_id: string; device_id: string | null }>(
    'SELECT user_id, device_id FROM mfa_tickets WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [ticketHash, deps.clock()],
  );
  const found = rows[0] && { ...rows[0], user_id: Number(rows[0].user_id) };
  if (!found) throw invalidTicket();
  await throttled(deps, [secondFactorKey(deps, found.user_id)], () => deps.rpc.call(Rpcs.users.verifySecondFactor, { user_id: found.user_id, code: req.code }, meta), isWrongCode);
  const [subject, user] = await Promise.all([
    deps.rpc.call(Rpcs.users.tokenSubject, { user_id: found.user_id }, meta),
    deps.rpc.call(Rpcs.users.get, { user_id: found.user_id }, meta),
  ]);
  const device = readDeviceToken(deps.deviceSecret, req.device_token);
  const deviceId = found.device_id ?? (device && device.userId === found.user_id ? device.id : undefined);
  const { sessionId, reply } = await withTransaction(deps.pool, async (client) => {
    // Spent here, once: of two completions racing with two good codes, one wins.
    const spent = await client.query<{ verified_at: Date }>(
      'UPDATE mfa_tickets SET used_at = $2 WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING verified_at',
      [ticketHash, deps.clock()],
    );
    if (!spent.rows[0]) throw invalidTicket();
    const opened = await openSession(deps, client, found.user_id, spent.rows[0].verified_at);
    const tokens = await tokensFor(deps, subject, opened.sessionId, opened.refreshToken);
    return {
      sessionId: opened.sessionId,
      reply: await deps.idempotency.answer(client, ctx.idempotency, { ...tokens, user, device_token: issueDeviceToken(deps.deviceSecret, found.user_id, deviceId) }),
    };
  });
  ctx.log.info({ user_id: found.user_id, session_id: sessionId }, 'login succeeded with a second factor');
  return reply;
}

type RefreshOutcome = { ok: true; tokens: SessionTokens } | { ok: false; revoke?: string; reason: string };

/**
 * Whose session a refresh token belongs to. A session from before user ids were integers names its
 * user by UUID until its id is learnt: learnt here at the latest, before anything is signed.
 */
async function sessionOwner(deps: AuthDeps, hash: Buffer, ctx: RpcContext): Promise<{ user_id: number; session_id: string } | undefined> {
  const read = () =>
    deps.pool.query<{ user_id: string | null; legacy_user_id: string | null; session_id: string }>(
      'SELECT s.user_id, s.legacy_user_id, s.id AS session_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1',
      [hash],
    );
  let row = (await read()).rows[0];
  if (row && row.user_id === null && row.legacy_user_id) {
    await resolveLegacyUsers(deps, ctx.requestId, [row.legacy_user_id]);
    row = (await read()).rows[0];
  }
  return row?.user_id ? { user_id: Number(row.user_id), session_id: row.session_id } : undefined;
}

interface TokenRow {
  session_id: string;
  spent_at: Date | null;
  expires_at: Date;
  successor_enc: Buffer | null;
}

/**
 * Rotate: spend the refresh token, hand out a new one and a new access token. The session row is
 * locked, so concurrent refreshes of one family run one at a time. A spent token presented again
 * within REFRESH_REUSE_INTERVAL of its rotation (two tabs refreshing at once) gets the session's
 * live token back instead; later, it is RFC 9700 reuse and revokes the whole session.
 */
export async function refresh(deps: AuthDeps, token: string, ctx: RpcContext): Promise<SessionTokens> {
  const hash = sha256(token);
  // The user first (their current role, and whether they still exist): if users-service cannot
  // answer, nothing is spent and the client can simply retry with the same token.
  const owner = await sessionOwner(deps, hash, ctx);
  if (!owner) throw invalidRefresh();
  let subject: TokenSubject;
  try {
    subject = await deps.rpc.call(Rpcs.users.tokenSubject, { user_id: owner.user_id }, { requestId: ctx.requestId });
  } catch (e) {
    if (e instanceof AppError && e.code === 'not_found') {
      await endSessions(deps, owner.user_id, { only: owner.session_id }, 'user_deleted');
      throw invalidRefresh();
    }
    throw e;
  }

  const outcome = await withTransaction<RefreshOutcome>(deps.pool, async (client) => {
    const now = deps.clock();
    const { rows } = await client.query<TokenRow & { revoked_at: Date | null; session_expires: Date; session_created: Date }>(
      `SELECT t.session_id, t.spent_at, t.expires_at, t.successor_enc, s.revoked_at, s.expires_at AS session_expires, s.created_at AS session_created
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1 FOR UPDATE OF s, t`,
      [hash],
    );
    const row = rows[0];
    if (!row || row.revoked_at) return { ok: false, reason: 'unknown or revoked' };
    if (row.session_expires <= now) return { ok: false, reason: 'expired' };
    // A password reset ends every older session, even when ending them right away was interrupted.
    if (subject.password_reset_at && row.session_created <= new Date(subject.password_reset_at)) {
      await client.query("UPDATE sessions SET revoked_at = $2, revoked_reason = 'password_reset' WHERE id = $1 AND revoked_at IS NULL", [row.session_id, now]);
      return { ok: false, revoke: row.session_id, reason: 'session older than a password reset' };
    }
    if (row.spent_at) {
      const live = await liveSuccessor(deps, client, token, row, now);
      if (live) {
        await client.query('UPDATE sessions SET last_used_at = $2 WHERE id = $1', [row.session_id, now]);
        return { ok: true, tokens: await deps.idempotency.answer(client, ctx.idempotency, await tokensFor(deps, subject, row.session_id, live)) };
      }
      await client.query("UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh_token_reuse' WHERE id = $1", [row.session_id, now]);
      return { ok: false, revoke: row.session_id, reason: 'reuse detected: session revoked' };
    }
    if (row.expires_at <= now) return { ok: false, reason: 'expired' };
    const { token: next, hash: nextHash } = newRefreshToken();
    await client.query('UPDATE refresh_tokens SET spent_at = $2, successor_enc = $3 WHERE token_hash = $1', [hash, now, sealSuccessor(token, next)]);
    await client.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [nextHash, row.session_id, now, row.session_expires]);
    await client.query('UPDATE sessions SET last_used_at = $2 WHERE id = $1', [row.session_id, now]);
    return { ok: true, tokens: await deps.idempotency.answer(client, ctx.idempotency, await tokensFor(deps, subject, row.session_id, next)) };
  });
  if (!outcome.ok) {
    if (outcome.revoke) await deps.revokeSessions([outcome.revoke]);
    ctx.log.warn({ reason: outcome.reason, ...(outcome.revoke ? { session_id: outcome.revoke } : {}) }, 'refresh refused');
    throw invalidRefresh();
  }
  return outcome.tokens;
}

/** Longest chain of rotations followed from one spent token (each hop within the reuse interval). */
const MAX_SUCCESSOR_HOPS = 20;

/**
 * The session's live refresh token, reached from a spent one through successors sealed under each
 * spent token, provided every hop was spent within the reuse interval; else undefined (reuse).
 */
async function liveSuccessor(deps: AuthDeps, client: PoolClient, spent: string, row: TokenRow, now: Date): Promise<string | undefined> {
  const graceMs = deps.refreshReuseIntervalSeconds * 1000;
  let [token, current] = [spent, row];
  for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
    if (!current.spent_at) return current.expires_at > now ? token : undefined;
    if (now.getTime() - current.spent_at.getTime() > graceMs || !current.successor_enc) return undefined;
    const next = openSuccessor(token, current.successor_enc);
    if (!next) return undefined;
    const { rows } = await client.query<TokenRow>('SELECT session_id, spent_at, expires_at, successor_enc FROM refresh_tokens WHERE token_hash = $1', [sha256(next)]);
    if (!rows[0] || rows[0].session_id !== row.session_id) return undefined;
    [token, current] = [next, rows[0]];
  }
  return undefined;
}

/**
 * End sessions of a user: one (`only`), all but one (`except`), or all. Their refresh tokens stop
 * working at once and their access tokens are refused by every gateway within milliseconds.
 */
export async function endSessions(deps: AuthDeps, userId: number, which: { only?: string; except?: string }, reason: string): Promise<number> {
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
