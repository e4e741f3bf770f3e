import type { RegisterUser } from '@um/contracts';
import { AppError } from '@um/platform';
import { anyAdmin, heldNames } from '../read-model/users-repository.js';
import type { UsersDeps } from './deps.js';
import { registerUser } from './register-user.js';

/**
 * Starting without an admin is a state to fix through the API, not a reason to stop: a service that
 * exited here would crash-loop under a supervisor. The warning names the fields, never their values.
 */
function nameTaken(deps: UsersDeps, taken: string[]): 'name_taken' {
  deps.log.warn(
    { taken },
    'no admin exists, but an existing account holds ADMIN_USERNAME (or a look-alike of it) or ADMIN_EMAIL: it is not promoted and no admin is created; choose another name or promote an account through the API',
  );
  return 'name_taken';
}

/**
 * The bootstrap admin, as Keycloak does it: the configured account is created only when the system
 * has no admin at all. An existing account is never promoted and no password is ever set from the
 * environment, whoever holds the name or a look-alike of it (say the first admin was deleted and a
 * stranger registered the name since): then nothing is created and a warning says why.
 * Replicas starting together take turns on an advisory lock, so at most one creates the account.
 */
export async function ensureAdmin(deps: UsersDeps, admin: Pick<RegisterUser, 'username' | 'email' | 'password'>): Promise<'created' | 'admin_exists' | 'name_taken'> {
  const lock = await deps.pool.connect();
  try {
    await lock.query("SELECT pg_advisory_lock(hashtextextended('users.bootstrap_admin', 0))");
    if (await anyAdmin(deps.pool)) {
      deps.log.info('an admin exists: ADMIN_USERNAME / ADMIN_EMAIL / ADMIN_PASSWORD are not used');
      return 'admin_exists';
    }
    const taken = await heldNames(deps.pool, admin);
    if (taken.length) return nameTaken(deps, taken);
    let user;
    try {
      user = await registerUser(
        deps,
        { ...admin, fio: admin.username, birthday: '1970-01-01', tags: [], role: 'admin' },
        {
          requestId: 'startup:ensure-admin',
          actorId: null,
          system: true,
        },
      );
    } catch (e) {
      // A registration that took the name (or a look-alike) since the look-up: the same warning, not a crash loop.
      if (!(e instanceof AppError) || e.code !== 'already_exists') throw e;
      const fields = (e.fields ?? []).map((f) => f.field);
      return nameTaken(deps, fields);
    }
    deps.log.info({ user_id: user.id }, 'bootstrap admin account created');
    return 'created';
  } finally {
    await lock.query("SELECT pg_advisory_unlock(hashtextextended('users.bootstrap_admin', 0))").catch(() => undefined);
    lock.release();
  }
}
