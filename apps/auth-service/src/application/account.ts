import { Rpcs } from '@um/contracts';
import { AppError, type RpcContext } from '@um/platform';
import type { AuthDeps } from './deps.js';
import { endSessions } from './sessions.js';

/** `POST /logout`: the caller's session, or with `all` every session of the caller. */
export async function logout(deps: AuthDeps, req: { user_id: string; session_id: string; all: boolean }): Promise<{ sessions_ended: number }> {
  const ended = await endSessions(deps, req.user_id, req.all ? {} : { only: req.session_id }, req.all ? 'logout_all' : 'logout');
  return { sessions_ended: ended };
}

/**
 * Change the password: check the current one, end every other session, store the new one. Other
 * sessions end before the new password is stored, so a failure can only log out too much, never
 * leave a stolen session alive with a changed password.
 */
export async function changePassword(
  deps: AuthDeps,
  req: { user_id: string; session_id: string; current_password: string; new_password: string },
  ctx: RpcContext,
): Promise<{ status: 'changed'; sessions_ended: number }> {
  const meta = { requestId: ctx.requestId, actorId: req.user_id };
  await deps.rpc.call(Rpcs.users.verifyPassword, { user_id: req.user_id, password: req.current_password }, meta);
  if (req.current_password === req.new_password)
    throw new AppError('invalid_argument', 'auth.password_unchanged', 'The new password must differ from the current one', [
      { field: 'new_password', message: 'must differ from the current password' },
    ]);
  const ended = await endSessions(deps, req.user_id, { except: req.session_id }, 'password_changed');
  await deps.rpc.call(Rpcs.users.setPassword, { user_id: req.user_id, password: req.new_password }, meta);
  return { status: 'changed', sessions_ended: ended };
}
