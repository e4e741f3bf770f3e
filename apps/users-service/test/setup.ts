import { randomBytes } from 'node:crypto';
import { buildProfile, RegisterUser, type Profile, type User } from '@um/contracts';
import { AppError, createLogger, createPool, IdempotencyStore, migrate, type Pool, serverSecret } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import type { UsersDeps } from '../src/application/deps.js';
import { handleCommand } from '../src/application/handle-command.js';
import { getUser } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { createPasswordPolicy } from '../src/domain/password-policy.js';
import { PasswordHasher } from '../src/password-hasher.js';
import { streamOf } from '../src/event-store/event-store.js';
import { MIGRATIONS_DIR } from '../src/service.js';

export const silentLog = createLogger('users-test', 'silent');

/** A migrated schema of its own and use-case dependencies over it. */
export async function usersFixture(profile: Profile = buildProfile()) {
  const { databaseUrl } = testInfra();
  const schema = uniqueId('t_users');
  await migrate(databaseUrl, schema, MIGRATIONS_DIR, silentLog);
  const pool: Pool = createPool(databaseUrl, schema);
  const revoked: number[] = [];
  /** Every revocation asked for: user id and the version below which its tokens are refused. */
  const revocations: Array<[number, number]> = [];
  const deps: UsersDeps = {
    pool,
    hasher: new PasswordHasher(4),
    passwordPolicy: createPasswordPolicy({ denylist: true }),
    revokeTokens: async (id, belowVersion) => {
      revoked.push(id);
      revocations.push([id, belowVersion]);
    },
    clock: () => new Date(),
    log: silentLog,
    emailConfirmation: { ttlSeconds: 3600, resendIntervalSeconds: 60 },
    ipv6Prefix: 64,
    registrationLimit: { perWindow: 3, windowSeconds: 3600 },
    paging: { maxPageSize: 1000, exactCountLimit: 10_000 },
    rateLimitSecret: await serverSecret(pool, 'rate_limit', {}),
    passwordReset: { ttlSeconds: 1800, accountLimit: 3, addressLimit: 5, windowSeconds: 3600 },
    emailChange: { cancelTtlSeconds: 14 * 24 * 3600, limit: 3, windowSeconds: 3600 },
    mfaTrustAfterSeconds: 7 * 24 * 3600,
    mfaIssuer: 'Test',
    idempotency: new IdempotencyStore(randomBytes(32)),
    profile,
  };
  return {
    deps,
    pool,
    schema,
    databaseUrl,
    revoked,
    revocations,
    close: async () => {
      await pool.end();
      await dropSchemas(databaseUrl, schema);
    },
  };
}

let n = 0;
/** A valid registration with unique username and email. */
export function newUser(overrides: Record<string, unknown> = {}) {
  n++;
  const suffix = `${process.pid}${n}${Math.random().toString(36).slice(2, 6)}`;
  return {
    username: `user_${suffix}`,
    email: `user_${suffix}@example.com`,
    password: 'correct horse',
    fio: `Test User ${suffix}`,
    birthday: '1990-05-17',
    tags: ['alpha'],
    ...overrides,
  };
}

/** The service acting on its own (as at start-up): for tests about something else than who may act. */
export const meta = { requestId: 'test-request', actorId: null, system: true };

/** A caller acting as this user: privileged commands check its current role. */
export const as = (actorId: number) => ({ requestId: `as-${actorId}`, actorId: String(actorId) });

/** The AppError a promise rejects with (anything else fails the test). */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** The internal stream of a user (the test fails if the id was never given). */
export async function streamOfUser(pool: Pool, userId: number): Promise<string> {
  const stream = await streamOf(pool, userId);
  if (!stream) throw new Error(`no stream for user ${userId}`);
  return stream;
}

/** A new user whose address is confirmed (reset links go only to such an address). */
export async function confirmedUser(deps: UsersDeps): Promise<User> {
  const user = await registerUser(deps, RegisterUser.parse(newUser()), meta);
  await handleCommand(deps, { userId: user.id }, { type: 'ConfirmEmail', data: { user_id: user.id } }, meta, { after: async () => undefined });
  return getUser(deps.pool, user.id);
}

/** Record a reset request as `POST /password/forgot` does after answering; its event id, as mail-service gets it. */
export const requestReset = (deps: UsersDeps, userId: number): Promise<string> =>
  handleCommand(deps, { userId }, { type: 'RequestPasswordReset', data: { user_id: userId } }, meta, { after: async (_client, stored) => stored[0]!.eventId });
