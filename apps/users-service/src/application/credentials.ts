import type { User, VerifyCredentials } from '@um/contracts';
import { AppError } from '@um/platform';
import { assertPasswordAcceptable } from '../domain/password-policy.js';
import { userWithPasswordHashById, userWithPasswordHashByLogin } from '../read-model/users-repository.js';
import { dropResetLinks } from '../repository/password-resets.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';

/** Check a password where its hash lives; the hash never leaves this service. Unknown user and wrong password fail alike. */
export async function verifyCredentials(deps: UsersDeps, req: VerifyCredentials): Promise<User> {
  const login = req.username.trim();
  const found = await userWithPasswordHashByLogin(deps.pool, login);
  const ok = await deps.hasher.verify(req.password, found?.passwordHash);
  if (!found || !ok) throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
  return found.user;
}

/** Check a user's current password by id (before a password change). */
export async function verifyPassword(deps: UsersDeps, userId: number, password: string): Promise<User> {
  const found = await userWithPasswordHashById(deps.pool, userId);
  const ok = await deps.hasher.verify(password, found?.passwordHash);
  if (!found || !ok) throw new AppError('invalid_argument', 'users.wrong_password', 'The current password is wrong', [{ field: 'current_password', message: 'is wrong' }]);
  return found.user;
}

/**
 * Refuse a new password the policy does not accept for this user (field `new_password`: only password
 * changes set one). Cheap, so the change can ask before it costs anything or ends any session.
 */
export async function checkPasswordPolicy(deps: UsersDeps, userId: number, password: string): Promise<{ status: 'ok' }> {
  assertPasswordAcceptable(deps.passwordPolicy, password, await getUser(deps.pool, userId), 'new_password');
  return { status: 'ok' };
}

/** Store a new password hash; the event records that it changed, never the hash. Unused reset links die: they were sent for the old one. */
export async function setPassword(deps: UsersDeps, userId: number, password: string, meta: CallerMeta): Promise<{ status: 'ok' }> {
  await checkPasswordPolicy(deps, userId, password);
  const hash = await deps.hasher.hash(password);
  return handleCommand(deps, { userId }, { type: 'ChangePassword', data: { user_id: userId } }, meta, {
    after: async (client) => {
      await client.query('UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, hash]);
      await dropResetLinks(client, userId);
      return { status: 'ok' as const };
    },
  });
}
