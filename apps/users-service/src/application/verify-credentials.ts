import type { User, VerifyCredentials } from '@um/contracts';
import { AppError } from '@um/platform';
import { emailKey, toUser, USER_COLUMNS, usernameKey, type UserRow } from '../projections/users-projection.js';
import type { UsersDeps } from './deps.js';

/** Check a password where its hash lives; the hash never leaves this service. Unknown user and wrong password fail alike. */
export async function verifyCredentials(deps: UsersDeps, req: VerifyCredentials): Promise<User> {
  const login = req.username.trim();
  const { rows } = await deps.pool.query<UserRow & { password_hash: string }>(
    `SELECT ${USER_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}, c.password_hash
       FROM users u JOIN credentials c ON c.user_id = u.id
      WHERE u.username_key = $1 OR u.email_key = $2
      ORDER BY (u.username_key = $1) DESC LIMIT 1`,
    [usernameKey(login), emailKey(login)],
  );
  const row = rows[0];
  const ok = await deps.hasher.verify(req.password, row?.password_hash);
  if (!row || !ok) throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
  return toUser(row);
}
