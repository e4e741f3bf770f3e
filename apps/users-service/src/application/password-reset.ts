import { randomBytes } from 'node:crypto';
import { loginNameKey, type PasswordResetIssued } from '@um/contracts';
import { addressLimitKey, AppError, sha256, withTransaction } from '@um/platform';
import { assertPasswordAcceptable } from '../domain/password-policy.js';
import { hasLaterEvent, readEvent } from '../event-store/event-store.js';
import { userById } from '../read-model/users-repository.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { resolveLogin } from './auth-lookups.js';
import { replaceResetLink, resetLinkOwner, spendResetLink } from '../repository/password-resets.js';
import { handleCommand } from './handle-command.js';
import { eraseMfa, factorEnrolledAfter } from './mfa.js';
import { revokeAfterCommit } from './revoke-tokens.js';
import { getUser } from './queries.js';
import { hit, limitKey } from './rate-limit.js';

/** One answer for unknown, used and expired links (and a link of an erased user): it reveals nothing. */
const invalidLink = () => new AppError('bad_request', 'users.reset_link_invalid', 'This password reset link is invalid, already used or expired');

/**
 * `POST /password/forgot`. The answer must not tell whether the name belongs to an account, by its
 * body or by its time: both paths do the same work before answering (resolve the name, count it
 * against its name's and its address's limit), and the rest (recording the request on the
 * account's stream, which the mail path follows) happens after the answer. Every name is counted
 * as typed (`loginNameKey`), known or not, and never per account: requests split between a
 * username and an email meet the limit no sooner when both are one account's, so the limits tell
 * nothing either.
 */
export async function requestPasswordReset(deps: UsersDeps, req: { login: string; client_ip?: string | undefined }, meta: CallerMeta): Promise<{ status: 'accepted' }> {
  const limits = deps.passwordReset;
  const now = deps.clock();
  const account = await resolveLogin(deps.pool, req.login);
  if (req.client_ip)
    await hit(deps.pool, limitKey(deps.rateLimitSecret, 'reset-address', addressLimitKey(req.client_ip, deps.ipv6Prefix)), limits.addressLimit, limits.windowSeconds, now, {
      id: 'users.reset_rate_limited',
      what: 'Too many password reset requests from this address',
    });
  await hit(deps.pool, limitKey(deps.rateLimitSecret, 'reset-account', loginNameKey(req.login)), limits.accountLimit, limits.windowSeconds, now, {
    id: 'users.reset_rate_limited',
    what: 'Too many password reset requests for this account',
  });
  if (account.user_id) {
    const userId = account.user_id;
    // After the answer, on purpose (see above). A failure loses only this request: the user asks again.
    setImmediate(() => {
      // Not under the caller's idempotency key: the answer was recorded with it already.
      handleCommand(
        deps,
        { userId },
        { type: 'RequestPasswordReset', data: { user_id: userId } },
        { requestId: meta.requestId, actorId: null },
        { after: async () => undefined },
      ).catch((err) => deps.log.warn({ err: String(err), user_id: userId }, 'password reset request not recorded'));
    });
  }
  return { status: 'accepted' };
}

/**
 * mail-service asks for the link of one `PasswordResetRequested` event. Only the user's latest
 * request gets one (an older event, redelivered late, must not revive a replaced link); issuing it
 * deletes the user's unused links, so a new request invalidates the previous link. A link goes only
 * to a verified address: an unconfirmed one gets a confirmation link instead (mail-service), so an
 * address nobody proved to own never takes over the account.
 */
export async function issuePasswordReset(deps: UsersDeps, eventId: string): Promise<PasswordResetIssued> {
  const request = await readEvent(deps.pool, eventId);
  if (request?.type !== 'PasswordResetRequested') throw new AppError('not_found', 'users.reset_request_not_found', 'No such password reset request');
  // An erased request belongs to a deleted user: no one to send a link to.
  if (!request.event || (await hasLaterEvent(deps.pool, request.streamId, 'PasswordResetRequested', request.streamVersion))) return { status: 'superseded' };
  const userId = request.event.data.user_id;
  const user = await userById(deps.pool, userId);
  if (!user) return { status: 'superseded' };
  if (!user.email_verified) return { status: 'unverified', user_id: userId, email: user.email };
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(deps.clock().getTime() + deps.passwordReset.ttlSeconds * 1000);
  await withTransaction(deps.pool, (client) => replaceResetLink(client, userId, sha256(token), expiresAt));
  return { status: 'issued', user_id: userId, email: user.email, token, expires_at: expiresAt.toISOString() };
}

/**
 * `POST /password/reset` (through auth-service, which then ends the sessions): spend the token,
 * check the new password against the policy, store its hash, record `PasswordReset` (and
 * `EmailConfirmed` for an unconfirmed address), all in one transaction; then refuse every access
 * token of the user from before it. A second factor enrolled less than MFA_TRUST_AFTER ago goes
 * with the reset (`MfaDisabled` by `password_reset`): whoever enrolled it with a stolen session
 * cannot lock the owner out; an older factor stays and is asked for at the next sign-in.
 */
export async function resetPassword(deps: UsersDeps, token: string, password: string, meta: CallerMeta): Promise<{ user_id: number }> {
  const tokenHash = sha256(token);
  const userId = await resetLinkOwner(deps.pool, tokenHash);
  if (!userId) throw invalidLink();
  // The policy first and cheap, before any hashing; the token stays unspent for a better password.
  const user = await getUser(deps.pool, userId).catch(() => {
    throw invalidLink();
  });
  assertPasswordAcceptable(deps.passwordPolicy, password, user, 'password');
  const hash = await deps.hasher.hash(password);
  const trustedSince = new Date(deps.clock().getTime() - deps.mfaTrustAfterSeconds * 1000);
  const command = (_: number, dropFactor: boolean) => ({ type: 'ResetPassword' as const, data: { user_id: userId }, dropFactor });
  const stored = await handleCommand(
    deps,
    { userId },
    command,
    { ...meta, actorId: String(userId) },
    {
      prepare: async (client) => {
        if (!(await spendResetLink(client, tokenHash, deps.clock()))) throw invalidLink();
        return factorEnrolledAfter(client, userId, trustedSince);
      },
      after: async (client, events) => {
        await client.query('UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, hash]);
        if (events.some((e) => e.type === 'MfaDisabled')) await eraseMfa(client, userId);
        return events;
      },
      reply: () => ({ user_id: userId }),
    },
  );
  const reset = stored.find((e) => e.type === 'PasswordReset')!;
  await revokeAfterCommit(deps, userId, reset.streamVersion);
  return { user_id: userId };
}
