import type { User } from '@um/contracts';
import { ALL_VERSIONS } from '@um/platform';
import { shredStream, streamOf } from '../event-store/event-store.js';
import { countAdminsExcept } from '../read-model/users-repository.js';
import { eraseEmailChanges } from '../repository/email-changes.js';
import { eraseResetLinks } from '../repository/password-resets.js';
import { lockAdmins, requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { eraseMfa } from './mfa.js';
import { revokeAfterCommit } from './revoke-tokens.js';
import { getUser } from './queries.js';
import { forgetAccountLimits } from './rate-limit.js';

/**
 * Delete a user (oneself, or anyone as an admin): tombstone event, projection row, credentials and
 * the data key go in one transaction, so the personal data in earlier events is unreadable from
 * then on. Every token of the user is refused once it commits (and again when the relay publishes
 * the tombstone, should this process die in between).
 */
export async function deleteUser(deps: UsersDeps, userId: number, meta: CallerMeta): Promise<User> {
  const command = (_: number, prepared: { others: number }) => ({ type: 'DeleteUser' as const, data: { user_id: userId }, otherAdmins: prepared.others });
  const user = await handleCommand(deps, { userId }, command, meta, {
    prepare: async (client) => {
      await lockAdmins(client);
      await requireAdmin(client, meta, { self: userId, exclusive: true });
      const found = await getUser(client, userId, true);
      // Read under the admins lock: the decider keeps the last admin.
      return { found, others: await countAdminsExcept(client, userId) };
    },
    after: async (client, _stored, { found }) => {
      // Erase personal data: the key (so stored events become unreadable), credentials, tokens.
      const streamId = await streamOf(client, userId);
      if (streamId) await shredStream(client, streamId);
      await client.query('DELETE FROM credentials WHERE user_id = $1', [userId]);
      await client.query('DELETE FROM email_confirmations WHERE user_id = $1', [userId]);
      await forgetAccountLimits(client, deps.rateLimitSecret, userId, [found.username, found.email]);
      await eraseResetLinks(client, userId);
      await eraseEmailChanges(client, userId);
      await eraseMfa(client, userId);
      return found;
    },
  });
  await revokeAfterCommit(deps, userId, ALL_VERSIONS);
  return user;
}
