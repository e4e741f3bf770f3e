import type { RegisterUser } from '@um/contracts';
import { AppError } from '@um/platform';
import { usernameKey } from '../projections/users-projection.js';
import type { UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { registerUser } from './register-user.js';

/**
 * Make sure the configured admin account exists and is an admin. Safe across restarts and replicas:
 * the first replica creates it, a racing one gets "already exists" and then finds it.
 */
export async function ensureAdmin(deps: UsersDeps, admin: Pick<RegisterUser, 'username' | 'email' | 'password'>): Promise<void> {
  const meta = { requestId: 'startup:ensure-admin', actorId: null };
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await deps.pool.query<{ id: string; role: string }>('SELECT id, role FROM users WHERE username_key = $1', [usernameKey(admin.username)]);
    const existing = rows[0];
    if (existing) {
      if (existing.role !== 'admin') {
        await handleCommand(deps, existing.id, { type: 'ChangeRole', data: { user_id: existing.id, role: 'admin' } }, meta, { after: async () => undefined });
        deps.log.info({ user_id: existing.id }, 'existing account promoted to admin');
      }
      return;
    }
    try {
      const user = await registerUser(deps, { ...admin, fio: admin.username, birthday: '1970-01-01', tags: [], role: 'admin' }, meta);
      deps.log.info({ user_id: user.id }, 'admin account created');
      return;
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'already_exists')) throw e;
      const again = await deps.pool.query('SELECT 1 FROM users WHERE username_key = $1', [usernameKey(admin.username)]);
      if (!again.rows.length) throw new AppError('already_exists', 'users.admin_email_taken', 'ADMIN_EMAIL is already used by another account', undefined, { cause: e });
    }
  }
}
