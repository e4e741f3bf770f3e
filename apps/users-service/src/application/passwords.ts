import type { User } from '@um/contracts';
import { AppError } from '@um/platform';
import { toUser, USER_COLUMNS, type UserRow } from '../projections/users-projection.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';

/** Check a user's current password by id (before a password change). */
export async function verifyPassword(deps: UsersDeps, userId: string, password: string): Promise<User> {
  const { rows } = await deps.pool.query<UserRow & { password_hash: string }>(
    `SELECT ${USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}, c.password_hash
       FROM users u JOIN credentials c ON c.user_id = u.id WHERE u.id = $1`,
    [userId],
  );
  const ok = await deps.hasher.verify(password, rows[0]?.password_hash);
  if (!rows[0] || !ok) throw new AppError('invalid_argument', 'users.wrong_password', 'The current password is wrong', [{ field: 'current_password', message: 'is wrong' }]);
  return toUser(rows[0]);
}

/** Store a new password hash; the event records that it changed, never the hash. */
export async function setPassword(deps: UsersDeps, userId: string, password: string, meta: CallerMeta): Promise<{ status: 'ok' }> {
  const hash = await deps.hasher.hash(password);
  return handleCommand(deps, userId, { type: 'ChangePassword', data: { user_id: userId } }, meta, {
    after: async (client) => {
      await client.query('UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, hash]);
      return { status: 'ok' as const };
    },
  });
}
