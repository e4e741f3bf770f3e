import { identityKey, type Role, type UpdateUser, type User } from '@um/contracts';
import { invalidArgument } from '@um/platform';
import { assertNotTaken } from '../read-model/taken-names.js';
import { countAdminsExcept } from '../read-model/users-repository.js';
import { openEmailChange } from '../repository/email-changes.js';
import { dropResetLinks } from '../repository/password-resets.js';
import { lockAdmins, requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { revokeAfterCommit } from './revoke-tokens.js';
import { getUser } from './queries.js';
import { hit, limitKey } from './rate-limit.js';

/**
 * Change profile fields (one's own, or anyone's as an admin); only real changes become an event.
 * One's own new email takes effect only once confirmed from the new address (`EmailChangeRequested`,
 * see email-change.ts): the reply is the same whether or not the address is taken, and the requests
 * are limited per account and per address. An admin's change of another user's email applies at
 * once, unverified. Either way the user's unused reset links die with the old address.
 */
export async function updateUser(deps: UsersDeps, req: UpdateUser, meta: CallerMeta): Promise<User> {
  const { user_id } = req;
  const { attributes = {}, email, ...others } = req.changes;
  // Declared attributes, checked against this service's profile schema; null clears one.
  const declared = deps.profile.attributeChanges.safeParse(attributes);
  if (!declared.success) throw invalidArgument('users.invalid_attributes', declared.error);
  const byLink = email !== undefined && meta.actorId === String(user_id);
  if (byLink) await limitEmailChange(deps, user_id, email);
  const builtIn = { ...others, ...(email !== undefined && !byLink ? { email } : {}) };
  await assertNotTaken(deps.pool, builtIn, user_id);
  const command = { type: 'UpdateProfile' as const, data: { user_id, changes: { ...declared.data, ...builtIn }, ...(byLink ? { emailByLink: email } : {}) } };
  return handleCommand(deps, { userId: user_id }, command, meta, {
    prepare: async (client) => {
      await requireAdmin(client, meta, { self: user_id });
      return getUser(client, user_id);
    },
    after: async (client, stored, before) => {
      const requested = stored.find((e) => e.type === 'EmailChangeRequested');
      if (requested && email !== undefined)
        await openEmailChange(
          client,
          { userId: user_id, requestVersion: requested.streamVersion, oldEmail: before.email, oldVerified: before.email_verified, newEmail: email },
          deps.clock(),
        );
      if (stored.some((e) => e.event?.type === 'UserProfileUpdated' && 'email' in e.event.data.changes)) await dropResetLinks(client, user_id);
      return getUser(client, user_id);
    },
  });
}

/** Address changes asked for, per account and per new address (whether or not it is taken: the count tells nothing). */
async function limitEmailChange(deps: UsersDeps, userId: number, email: string): Promise<void> {
  const { limit, windowSeconds } = deps.emailChange;
  const refusal = { id: 'users.email_change_rate_limited' as const, what: 'Too many address changes' };
  await hit(deps.pool, limitKey(deps.rateLimitSecret, 'email-change-account', `user:${userId}`), limit, windowSeconds, deps.clock(), refusal);
  await hit(deps.pool, limitKey(deps.rateLimitSecret, 'email-change-address', identityKey(email)), limit, windowSeconds, deps.clock(), refusal);
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
