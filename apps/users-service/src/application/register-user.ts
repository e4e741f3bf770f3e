import type { RegisterUserRequest, User } from '@um/contracts';
import { addressLimitKey, AppError, invalidArgument, uuidv7 } from '@um/platform';
import { usernameCandidates } from '../domain/derived-username.js';
import { assertPasswordAcceptable } from '../domain/password-policy.js';
import { assertNotTaken } from '../read-model/taken-names.js';
import { requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';
import { hit, limitKey } from './rate-limit.js';

type Registration = Omit<RegisterUserRequest, 'attributes' | 'role'> & { role?: RegisterUserRequest['role']; attributes?: Record<string, unknown> };

const isUsernameTaken = (e: unknown) => e instanceof AppError && (e.id === 'users.username_taken' || e.id === 'users.username_lookalike');

/**
 * The first free name of `usernameCandidates(email)` (see derived-username.ts). Two registrations
 * deriving the same name at the same instant: the unique index lets one through, the other gets 409.
 */
async function deriveUsername(deps: UsersDeps, email: string): Promise<string> {
  for (const candidate of usernameCandidates(email)) {
    try {
      await assertNotTaken(deps.pool, { username: candidate });
      return candidate;
    } catch (e) {
      if (!isUsernameTaken(e)) throw e;
    }
  }
  throw new AppError('already_exists', 'users.derived_username_exhausted', 'Every username derived from this email is taken; give a username', [
    { field: 'username', message: 'could not be derived from the email: every candidate is taken' },
  ]);
}

/**
 * Register a user. A cheap look-up refuses most duplicates before paying for bcrypt; the unique
 * indexes of the projection decide the races that slip past it. Declared attributes are checked
 * against this service's profile schema (the gateway checked them against the same file).
 */
export async function registerUser(deps: UsersDeps, req: Registration, meta: CallerMeta): Promise<User> {
  const attributes = deps.profile.attributes.safeParse(req.attributes ?? {});
  if (!attributes.success) throw invalidArgument('users.invalid_attributes', attributes.error);
  const username = req.username ?? (await deriveUsername(deps, req.email));
  // Bad input is no registration: it neither counts against the client's limit nor costs a hash.
  assertPasswordAcceptable(deps.passwordPolicy, req.password, { username, email: req.email });
  if (req.client_ip)
    await hit(
      deps.pool,
      limitKey(deps.rateLimitSecret, 'register', addressLimitKey(req.client_ip, deps.ipv6Prefix)),
      deps.registrationLimit.perWindow,
      deps.registrationLimit.windowSeconds,
      deps.clock(),
    );
  await assertNotTaken(deps.pool, { username, email: req.email });

  const passwordHash = await deps.hasher.hash(req.password);
  const { email, fio, birthday, tags } = req;
  const role = req.role ?? 'user';
  const declared = Object.keys(attributes.data).length ? { attributes: attributes.data } : {};
  // The stream key is internal; the user's id is given inside the transaction and recorded in the event.
  return handleCommand(
    deps,
    { newStream: uuidv7() },
    (userId) => ({ type: 'RegisterUser', data: { user_id: userId, username, email, fio, birthday, tags, role, ...declared } }),
    meta,
    {
      // Creating an admin is itself privileged: the actor must be an admin now.
      prepare: async (client) => {
        if (role === 'admin') await requireAdmin(client, meta);
      },
      after: async (client, stored) => {
        const userId = stored[0]!.event!.data.user_id;
        await client.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [userId, passwordHash]);
        return getUser(client, userId);
      },
    },
  );
}
