import { Rpcs } from '@um/contracts';
import { AppError, type RpcContext } from '@um/platform';
import { isRecentLogin } from '../domain/session-rules.js';
import { liveSessionOpenedAt } from '../repository/sessions.js';
import type { AuthDeps } from './deps.js';
import { endSessions, markPasswordChanged } from './sessions.js';
import { passwordCheckKey, secondFactorKey, throttled } from './throttle.js';

/** `POST /logout`: the caller's session, or with `all` every session of the caller. */
export async function logout(deps: AuthDeps, req: { user_id: number; session_id: string; all: boolean }): Promise<{ sessions_ended: number }> {
  const ended = await endSessions(deps, req.user_id, req.all ? {} : { only: req.session_id }, req.all ? 'logout_all' : 'logout');
  return { sessions_ended: ended };
}

/**
 * Refuse unless the caller's session was opened by a password check within the reauthentication
 * window (`REAUTH_WINDOW`), as GoTrue's reauthentication: a stolen access token alone is not enough.
 */
async function requireRecentLogin(deps: AuthDeps, req: { user_id: number; session_id: string }, instead: string): Promise<void> {
  const openedAt = await liveSessionOpenedAt(deps.pool, req.session_id, req.user_id);
  if (!openedAt || !isRecentLogin(openedAt, deps.clock(), deps.reauthWindowSeconds))
    throw new AppError(
      'unauthenticated',
      'auth.reauthentication_required',
      `${instead}, or log in again: this needs a login within the last ${Math.round(deps.reauthWindowSeconds / 60)} minutes`,
    );
}

const isWrongPassword = (err: unknown) => err instanceof AppError && err.id === 'users.wrong_password';

/** Check the current password, throttled like logins, so a stolen access token is no password oracle. */
async function checkCurrentPassword(deps: AuthDeps, userId: number, password: string, meta: { requestId: string; actorId: string }): Promise<void> {
  await throttled(deps, [passwordCheckKey(deps, userId)], () => deps.rpc.call(Rpcs.users.verifyPassword, { user_id: userId, password }, meta), isWrongPassword);
}

/**
 * `auth.reauthenticate`, asked by the gateway before what hands over the account (a new email, a
 * second factor, the account's deletion): the caller is present if the session comes from a sign-in
 * within the reauthentication window, or the request carries the current password.
 */
export async function reauthenticate(
  deps: AuthDeps,
  req: { user_id: number; session_id: string; current_password?: string | undefined },
  ctx: RpcContext,
): Promise<{ status: 'ok' }> {
  if (req.current_password === undefined) await requireRecentLogin(deps, req, 'Send your current password (current_password)');
  else await checkCurrentPassword(deps, req.user_id, req.current_password, { requestId: ctx.requestId, actorId: String(req.user_id) });
  return { status: 'ok' };
}

/**
 * Change the password: check the new one against the policy, check the current one (throttled like logins, so a stolen access token is no
 * password oracle) or, without it, that the session comes from a recent login; store the new one, then refuse sessions from older password checks and end
 * every other session. Ending them again after the change closes the window in which a login that
 * read the old hash could open a session after the first round.
 */
export async function changePassword(
  deps: AuthDeps,
  req: { user_id: number; session_id: string; current_password?: string | undefined; new_password: string },
  ctx: RpcContext,
): Promise<{ status: 'changed'; sessions_ended: number }> {
  // The caller's key goes on to set_password, so a repeated change stores the password once.
  const meta = { requestId: ctx.requestId, actorId: String(req.user_id), ...(ctx.idempotency ? { idempotencyKey: ctx.idempotency.key } : {}) };
  // Cheap and first: a refused new password costs no bcrypt, no throttle attempt and no session.
  await deps.rpc.call(Rpcs.users.checkPasswordPolicy, { user_id: req.user_id, password: req.new_password }, meta);
  if (req.current_password === undefined) await requireRecentLogin(deps, req, 'Send the current password');
  else await checkCurrentPassword(deps, req.user_id, req.current_password, meta);
  if (req.current_password === req.new_password)
    throw new AppError('invalid_argument', 'auth.password_unchanged', 'The new password must differ from the current one', [
      { field: 'new_password', message: 'must differ from the current password' },
    ]);
  const before = await endSessions(deps, req.user_id, { except: req.session_id }, 'password_changed');
  await deps.rpc.call(Rpcs.users.setPassword, { user_id: req.user_id, password: req.new_password }, meta);
  await markPasswordChanged(deps, req.user_id);
  const after = await endSessions(deps, req.user_id, { except: req.session_id }, 'password_changed');
  return { status: 'changed', sessions_ended: before + after };
}

/**
 * `POST /password/reset`: users-service spends the link and stores the new password (and refuses
 * the user's access tokens from before it); then no session may come from an older password check,
 * and every session ends. The same 400 for every bad link comes from users-service.
 */
export async function resetPassword(deps: AuthDeps, req: { token: string; password: string }, ctx: RpcContext): Promise<{ status: 'reset'; sessions_ended: number }> {
  const { user_id } = await deps.rpc.call(Rpcs.users.resetPassword, req, { requestId: ctx.requestId });
  await markPasswordChanged(deps, user_id);
  const ended = await endSessions(deps, user_id, {}, 'password_reset');
  ctx.log.info({ user_id, sessions_ended: ended }, 'password reset');
  return { status: 'reset', sessions_ended: ended };
}

/**
 * The link sent to the old address when someone asked to change it: users-service cancels the change
 * (or takes the old address back) and refuses the user's access tokens; then every session ends, so
 * whoever asked for the change holds nothing of the account.
 */
export async function cancelEmailChange(deps: AuthDeps, req: { token: string }, ctx: RpcContext): Promise<{ status: 'cancelled'; sessions_ended: number }> {
  const { user_id } = await deps.rpc.call(Rpcs.users.cancelEmailChange, req, { requestId: ctx.requestId });
  const ended = await endSessions(deps, user_id, {}, 'email_change_cancelled');
  ctx.log.info({ user_id, sessions_ended: ended }, 'address change cancelled');
  return { status: 'cancelled', sessions_ended: ended };
}

const isWrongCode = (err: unknown) => err instanceof AppError && err.id === 'users.mfa_code_invalid';

/**
 * `DELETE /users/me/mfa/totp`: with a current code (throttled like a login's), or without one from
 * a session opened by a password check within the reauthentication window.
 */
export async function disableTotp(deps: AuthDeps, req: { user_id: number; session_id: string; code?: string | undefined }, ctx: RpcContext): Promise<{ status: 'disabled' }> {
  const meta = { requestId: ctx.requestId, actorId: String(req.user_id) };
  if (req.code !== undefined) {
    const code = req.code;
    await throttled(deps, [secondFactorKey(deps, req.user_id)], () => deps.rpc.call(Rpcs.users.verifySecondFactor, { user_id: req.user_id, code }, meta), isWrongCode);
  } else await requireRecentLogin(deps, req, 'Send a current code');
  return deps.rpc.call(Rpcs.users.disableMfa, { user_id: req.user_id }, meta);
}
