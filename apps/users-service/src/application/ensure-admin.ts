import type { RegisterUser } from '@um/contracts';
import { AppError } from '@um/platform';
import { emailKey, usernameKey } from '../projections/users-projection.js';
import type { UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { registerUser } from './register-user.js';

/**
 * Make sure the configured admin account exists and is an admin. Safe across restarts and replicas
 * (a racing replica gets "already exists" and finds the account on its next look). Only the account
 * matching both ADMIN_USERNAME and ADMIN_EMAIL is ever promoted: if someone else holds either (say
 * the admin renamed themself and a stranger registered the old name), nothing is granted and a
 * warning is logged; the service still starts.
 */
export async function ensureAdmin(deps: UsersDeps, admin: Pick<RegisterUser, 'username' | 'email' | 'password'>): Promise<void> {
  const meta = { requestId: 'startup:ensure-admin', actorId: null };
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await deps.pool.query<{ id: string; role: string; by_username: boolean; by_email: boolean }>(
      'SELECT id, role, username_key = $1 AS by_username, email_key = $2 AS by_email FROM users WHERE username_key = $1 OR email_key = $2',
      [usernameKey(admin.username), emailKey(admin.email)],
    );
    const match = rows.find((r) => r.by_username && r.by_email);
    if (match) {
      if (match.role !== 'admin') {
        await handleCommand(deps, match.id, { type: 'ChangeRole', data: { user_id: match.id, role: 'admin' } }, meta, { after: async () => undefined });
        deps.log.info({ user_id: match.id }, 'configured admin account promoted to admin');
      }
      return;
    }
    if (rows.length) {
      deps.log.warn(
        { taken: rows.map((r) => (r.by_username ? 'username' : 'email')) },
        'ADMIN_USERNAME / ADMIN_EMAIL belong to other accounts: no admin account created or promoted',
      );
      return;
    }
    try {
      const user = await registerUser(deps, { ...admin, fio: admin.username, birthday: '1970-01-01', tags: [], role: 'admin' }, meta);
      deps.log.info({ user_id: user.id }, 'admin account created');
      return;
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'already_exists')) throw e;
    }
  }
}
