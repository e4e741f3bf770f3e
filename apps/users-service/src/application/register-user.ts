import type { RegisterUser, Role, User } from '@um/contracts';
import { uuidv7 } from '@um/platform';
import { assertPasswordAcceptable } from '../domain/password-policy.js';
import { assertNotTaken } from '../projections/users-projection.js';
import { requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';
import { hit, limitKey } from './rate-limit.js';

/**
 * Register a user. A cheap look-up refuses most duplicates before paying for bcrypt; the unique
 * indexes of the projection decide the races that slip past it.
 */
export async function registerUser(deps: UsersDeps, req: RegisterUser & { role?: Role; client_ip?: string | undefined }, meta: CallerMeta): Promise<User> {
  // Bad input is no registration: it neither counts against the client's limit nor costs a hash.
  assertPasswordAcceptable(deps.passwordPolicy, req.password, req);
  if (req.client_ip)
    await hit(deps.pool, limitKey(deps.rateLimitSecret, 'register', req.client_ip), deps.registrationLimit.perWindow, deps.registrationLimit.windowSeconds, deps.clock());
  await assertNotTaken(deps.pool, req);

  const passwordHash = await deps.hasher.hash(req.password);
  const { username, email, fio, birthday, tags } = req;
  const role = req.role ?? 'user';
  // The stream key is internal; the user's id is given inside the transaction and recorded in the event.
  return handleCommand(deps, { newStream: uuidv7() }, (userId) => ({ type: 'RegisterUser', data: { user_id: userId, username, email, fio, birthday, tags, role } }), meta, {
    // Creating an admin is itself privileged: the actor must be an admin now.
    prepare: async (client) => {
      if (role === 'admin') await requireAdmin(client, meta);
    },
    after: async (client, stored) => {
      const userId = stored[0]!.event!.data.user_id;
      await client.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [userId, passwordHash]);
      return getUser(client, userId);
    },
  });
}
