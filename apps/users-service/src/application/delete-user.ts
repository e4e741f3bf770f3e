import type { User } from '@um/contracts';
import { shredStream } from '../event-store/event-store.js';
import { keepAnAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';

/**
 * Delete a user: tombstone event, projection row, credentials and the data key go in one
 * transaction, so the personal data in earlier events is unreadable from then on. The
 * revocation is written before commit, so a committed delete always has its tokens refused.
 */
export async function deleteUser(deps: UsersDeps, userId: string, meta: CallerMeta): Promise<User> {
  return handleCommand(deps, userId, { type: 'DeleteUser', data: { user_id: userId } }, meta, {
    prepare: async (client) => {
      const user = await getUser(client, userId, true);
      await keepAnAdmin(client, userId, 'deleted');
      return user;
    },
    after: async (client, _stored, user) => {
      // Erase personal data: the key (so stored events become unreadable), credentials, tokens.
      await shredStream(client, userId);
      await client.query('DELETE FROM credentials WHERE user_id = $1', [userId]);
      await client.query('DELETE FROM email_confirmations WHERE user_id = $1', [userId]);
      await deps.revokeTokens(userId, { forever: true });
      return user;
    },
  });
}
