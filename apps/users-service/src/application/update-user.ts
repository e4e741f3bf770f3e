import type { Role, UpdateUser, User } from '@um/contracts';
import { assertNotTaken } from '../projections/users-projection.js';
import { keepAnAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';

/** Change profile fields; only real changes become an event. A new email is unverified until confirmed. */
export async function updateUser(deps: UsersDeps, req: UpdateUser, meta: CallerMeta): Promise<User> {
  const { user_id, changes } = req;
  await assertNotTaken(deps.pool, changes, user_id);
  return handleCommand(deps, user_id, { type: 'UpdateProfile', data: { user_id, changes } }, meta, { after: (client) => getUser(client, user_id) });
}

/**
 * Make a user an admin or a user. The last admin stays one. The user's current tokens carry the old
 * role, so they are revoked: before commit (a failure to revoke aborts the change) and again after,
 * for a token signed from the old row in between.
 */
export async function setRole(deps: UsersDeps, userId: string, role: Role, meta: CallerMeta): Promise<User> {
  const { user, changed } = await handleCommand(deps, userId, { type: 'ChangeRole', data: { user_id: userId, role } }, meta, {
    prepare: async (client) => {
      if (role !== 'admin') await keepAnAdmin(client, userId, 'demoted');
    },
    after: async (client, stored) => {
      if (stored.length) await deps.revokeTokens(userId);
      return { user: await getUser(client, userId), changed: stored.length > 0 };
    },
  });
  if (changed) await deps.revokeTokens(userId);
  return user;
}
