import { Rpcs, type LoginRequest, type LoginRpcReply, type LoginTokens, type SessionTokens, type TokenSubject } from '@um/contracts';
import { AppError, sha256, uuidv7, withTransaction, type PoolClient, type RpcContext } from '@um/platform';
import { MAX_SUCCESSOR_HOPS, refreshDecision, successorStep } from '../domain/refresh-rotation.js';
import { mayOpenSession, sessionExpiresAt, sessionsToRefuse } from '../domain/session-rules.js';
import { findUsableMfaTicket, insertMfaTicket, spendMfaTicket } from '../repository/mfa-tickets.js';
import {
  findTokenSession,
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  lockSessionsValidAfter,
  readRefreshToken,
  revokeSession,
  revokeUserSessions,
  setSessionsValidAfter,
  spendRefreshToken,
  touchSession,
  type RefreshTokenRow,
} from '../repository/sessions.js';
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
  if (!mayOpenSession(await lockSessionsValidAfter(client, userId), verifiedAt)) throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
  const now = deps.clock();
  const sessionId = uuidv7(now.getTime());
  const expiresAt = sessionExpiresAt(now, deps.refreshTokenTtl);
  await insertSession(client, { id: sessionId, userId, createdAt: now, expiresAt });
  const { token, hash } = newRefreshToken();
  await insertRefreshToken(client, { hash, sessionId, createdAt: now, expiresAt });
  return { sessionId, refreshToken: token };
}

/** From now on no session may be opened from a password check made before this instant. */
export async function markPasswordChanged(deps: AuthDeps, userId: number): Promise<void> {
  await setSessionsValidAfter(deps.pool, userId, deps.clock());
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
 * counts. Failures count per name as typed (username and email apart, so the counts never tell
 * whether two names are one account), or on this device's counter when the caller presents a device
 * cookie of the account the name stands for; every success renews the cookie.
 */
export async function login(deps: AuthDeps, req: LoginRequest, ctx: RpcContext): Promise<LoginRpcReply> {
  const meta = { requestId: ctx.requestId };
  const account = await deps.rpc.call(Rpcs.users.resolveLogin, { login: req.username }, meta);
  const device = readDeviceToken(deps.deviceSecret, req.device_token);
  const deviceId = device && account.user_id && device.userId === account.user_id ? device.id : undefined;
  const keys = loginKeys(deps, { name: req.username, userId: account.user_id, deviceId }, req.client_ip);
  const verifiedAt = deps.clock();
  const user = await throttled(deps, keys, () => deps.rpc.call(Rpcs.users.verifyCredentials, { username: req.username, password: req.password }, meta), isWrongPassword);
  const subject = await deps.rpc.call(Rpcs.users.tokenSubject, { user_id: user.id }, meta);
  if (subject.mfa) {
    const ticket = randomBytes(32).toString('base64url');
    await insertMfaTicket(deps.pool, {
      hash: sha256(ticket),
      userId: user.id,
      verifiedAt,
      deviceId,
      expiresAt: new Date(deps.clock().getTime() + deps.mfaTicketTtlSeconds * 1000),
    });
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
  const found = await findUsableMfaTicket(deps.pool, ticketHash, deps.clock());
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
    const verifiedAt = await spendMfaTicket(client, ticketHash, deps.clock());
    if (!verifiedAt) throw invalidTicket();
    const opened = await openSession(deps, client, found.user_id, verifiedAt);
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
  let row = await findTokenSession(deps.pool, hash);
  if (row && row.user_id === null && row.legacy_user_id) {
    await resolveLegacyUsers(deps, ctx.requestId, [row.legacy_user_id]);
    row = await findTokenSession(deps.pool, hash);
  }
  return row?.user_id ? { user_id: Number(row.user_id), session_id: row.session_id } : undefined;
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
    const row = await lockRefreshToken(client, hash);
    const presented = row && {
      spent_at: row.spent_at,
      expires_at: row.expires_at,
      has_successor: row.successor_enc !== null,
      session_revoked_at: row.revoked_at,
      session_expires_at: row.session_expires,
      session_created_at: row.session_created,
    };
    const decision = refreshDecision(presented, subject.password_reset_at ? new Date(subject.password_reset_at) : undefined, now);
    switch (decision.kind) {
      case 'refuse':
        return { ok: false, reason: decision.reason };
      case 'end_session':
        await revokeSession(client, row!.session_id, now, 'password_reset');
        return { ok: false, revoke: row!.session_id, reason: 'session older than a password reset' };
      case 'reused': {
        const live = await liveSuccessor(deps, client, token, row!, now);
        if (live) {
          await touchSession(client, row!.session_id, now);
          return { ok: true, tokens: await deps.idempotency.answer(client, ctx.idempotency, await tokensFor(deps, subject, row!.session_id, live)) };
        }
        await revokeSession(client, row!.session_id, now, 'refresh_token_reuse');
        return { ok: false, revoke: row!.session_id, reason: 'reuse detected: session revoked' };
      }
      case 'rotate': {
        const { token: next, hash: nextHash } = newRefreshToken();
        await spendRefreshToken(client, hash, now, sealSuccessor(token, next));
        await insertRefreshToken(client, { hash: nextHash, sessionId: row!.session_id, createdAt: now, expiresAt: row!.session_expires });
        await touchSession(client, row!.session_id, now);
        return { ok: true, tokens: await deps.idempotency.answer(client, ctx.idempotency, await tokensFor(deps, subject, row!.session_id, next)) };
      }
    }
  });
  if (!outcome.ok) {
    if (outcome.revoke) await deps.revokeSessions([outcome.revoke]);
    ctx.log.warn({ reason: outcome.reason, ...(outcome.revoke ? { session_id: outcome.revoke } : {}) }, 'refresh refused');
    throw invalidRefresh();
  }
  return outcome.tokens;
}

/**
 * The session's live refresh token, reached from a spent one through successors sealed under each
 * spent token, provided every hop was spent within the reuse interval; else undefined (reuse).
 */
async function liveSuccessor(deps: AuthDeps, client: PoolClient, spent: string, row: RefreshTokenRow, now: Date): Promise<string | undefined> {
  let [token, current] = [spent, row];
  for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
    const step = successorStep({ ...current, has_successor: current.successor_enc !== null }, now, deps.refreshReuseIntervalSeconds);
    if (step === 'live') return token;
    if (step === 'reuse') return undefined;
    const next = openSuccessor(token, current.successor_enc!);
    if (!next) return undefined;
    const found = await readRefreshToken(client, sha256(next));
    if (!found || found.session_id !== row.session_id) return undefined;
    [token, current] = [next, found];
  }
  return undefined;
}

/**
 * End sessions of a user: one (`only`), all but one (`except`), or all. Their refresh tokens stop
 * working at once and their access tokens are refused by every gateway within milliseconds.
 */
export async function endSessions(deps: AuthDeps, userId: number, which: { only?: string; except?: string }, reason: string): Promise<number> {
  const ended = await revokeUserSessions(deps.pool, userId, which, deps.clock(), reason);
  const ids = sessionsToRefuse(ended, which.only);
  if (ids.length) await deps.revokeSessions(ids);
  return ended.length;
}
