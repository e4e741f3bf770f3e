import type { Role, UpdateUser, User } from '@um/contracts';
import { invalidArgument } from '@um/platform';
import { assertNotTaken } from '../read-model/taken-names.js';
import { countAdminsExcept } from '../read-model/users-repository.js';
import { lockAdmins, requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { revokeAfterCommit } from './revoke-tokens.js';
import { getUser } from './queries.js';

/** Change profile fields (one's own, or anyone's as an admin); only real changes become an event. A new email is unverified until confirmed. */
export async function updateUser(deps: UsersDeps, req: UpdateUser, meta: CallerMeta): Promise<User> {
  const { user_id } = req;
  const { attributes = {}, ...builtIn } = req.changes;
  // Declared attributes, checked against this service's profile schema; null clears one.
  const declared = deps.profile.attributeChanges.safeParse(attributes);
  if (!declared.success) throw invalidArgument('users.invalid_attributes', declared.error);
  const changes = { ...declared.data, ...builtIn };
  await assertNotTaken(deps.pool, builtIn, user_id);
  return handleCommand(deps, { userId: user_id }, { type: 'UpdateProfile', data: { user_id, changes } }, meta, {
    prepare: (client) => requireAdmin(client, meta, { self: user_id }),
    after: (client) => getUser(client, user_id),
  });
}

/**
 * Make a user an admin or a user (admins only, checked here against the actor's current role). The
 * last admin stays one. Tokens carry the authorization version their role was read at, so after the
 * change every token below its version is refused, including ones a racing refresh signs later.
 */
export async function setRole(deps: UsersDeps, userId: number, role: Role, meta: CallerMeta): Promise<User> {
  const command = (_: number, others: number) => ({ type: 'ChangeRole' as const, data: { user_id: userId, role }, otherAdmins: others });
  const { user, version } = await handleCommand(deps, { userId }, command, meta, {
    prepare: async (client) => {
      await lockAdmins(client);
      await requireAdmin(client, meta, { exclusive: true });
      // Read under the admins lock: the decider keeps the last admin.
      return countAdminsExcept(client, userId);
    },
    after: async (client, stored) => ({ user: await getUser(client, userId), version: stored.at(-1)?.streamVersion }),
    reply: (result) => result.user,
  });
  if (version !== undefined) await revokeAfterCommit(deps, userId, version);
  return user;
}
