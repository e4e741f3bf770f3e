import { randomUUID } from 'node:crypto';
import { usersEventsStream, type RegisterUser, type User } from '@um/contracts';
import { connectNats, createPool, ensureStream, jetStreamOf, migrate, openRevocations, revokeUserTokens, withTransaction, type Logger, type NatsConnection } from '@um/platform';
import type { CallerMeta, UsersDeps } from './application/deps.js';
import { deleteUser } from './application/delete-user.js';
import { exportUserData, type UsersServiceData } from './application/export-user.js';
import { registerUser } from './application/register-user.js';
import type { UsersConfig } from './config.js';
import { rebuildUsersProjection, type RebuildProgress } from './projections/users-projection.js';
import { replayEvents } from './relay/replay-events.js';
import { MIGRATIONS_DIR } from './service.js';
import { createUsersDeps } from './users-deps.js';

export { loadConfig as loadUsersConfig, type UsersConfig } from './config.js';
export type { UsersServiceData } from './application/export-user.js';

/** How an admin command needs NATS: not at all, for the revocations' fast path (best effort), or to publish. */
export type NatsNeed = 'none' | 'revocations' | 'publish';

/** How long a command waits for NATS before it says so (publishing) or goes on without (revocations). */
const NATS_WAIT_MS = 5_000;

/**
 * users-service's operations for its admin command line, on the service's own use cases: the same
 * rules, events and side effects as the API (an admin created here passes the registration and
 * password policy; an erasure is the API's crypto-shredding deletion, its tombstone published by
 * the relay like any other event). The operator acts as the service itself (`system`): holding the
 * database is more than being an admin.
 */
export async function openUsersAdmin(config: UsersConfig, log: Logger, nats: NatsNeed = 'none') {
  await migrate(config.DATABASE_URL, config.USERS_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.USERS_DB_SCHEMA, 2);
  let nc: NatsConnection | undefined;
  if (nats !== 'none') {
    nc = await Promise.race([connectNats(config, 'users-service', log), new Promise<undefined>((r) => setTimeout(() => r(undefined), NATS_WAIT_MS).unref())]);
    if (!nc && nats === 'publish') {
      await pool.end();
      throw new Error(`NATS at ${config.NATS_URL.replace(/\/\/[^@/,]*@/g, '//')} did not answer within ${NATS_WAIT_MS / 1000} s: start it, or check NATS_URL`);
    }
    if (!nc) log.warn('NATS not reachable: token revocations are left to the relay, which writes them when it publishes the events');
  }
  const revocations = nc ? await openRevocations(nc, config.NATS_NAMESPACE, config.JETSTREAM_REPLICAS) : undefined;
  const deps: UsersDeps = await createUsersDeps(config, pool, log, async (userId, belowVersion) => {
    if (!revocations) throw new Error('NATS not reachable');
    await revokeUserTokens(revocations, userId, belowVersion);
  });
  const meta = (command: string): CallerMeta => ({ requestId: `admin-cli:${command}:${randomUUID()}`, actorId: null, system: true });

  return {
    /** Register an admin account through the registration use case (validation, password policy, uniqueness). */
    createAdmin: (input: RegisterUser): Promise<User> => registerUser(deps, { ...input, role: 'admin' }, meta('create-admin')),
    exportUser: (userId: number): Promise<UsersServiceData> => exportUserData(deps, userId),
    /** The API's deletion: tombstone, data key, projection row, credentials and links go in one transaction. */
    eraseUser: (userId: number): Promise<User> => deleteUser(deps, userId, meta('erase-user')),
    /** Replay every event into a fresh projection, in one transaction. */
    async rebuildProjection(onProgress?: RebuildProgress): Promise<{ events: number; users: number; grandfathered: number }> {
      const events = await withTransaction(pool, (client) => rebuildUsersProjection(client, { onProgress }));
      const { rows } = await pool.query<{ n: number; lookalikes: number }>(
        'SELECT count(*)::int AS n, (count(*) FILTER (WHERE username_skeleton IS NULL))::int AS lookalikes FROM users',
      );
      return { events, users: rows[0]!.n, grandfathered: rows[0]!.lookalikes };
    },
    /** Republish every stored event to the events stream (created if missing). */
    async replay(onProgress?: (done: number, total: number) => void): Promise<number> {
      if (!nc) throw new Error('replay needs NATS');
      const { js, jsm } = await jetStreamOf(nc);
      await ensureStream(jsm, usersEventsStream(config.NATS_NAMESPACE), config.JETSTREAM_REPLICAS);
      return replayEvents({
        pool,
        schema: config.USERS_DB_SCHEMA,
        namespace: config.NATS_NAMESPACE,
        publish: async (subject, payload, eventId) => {
          await js.publish(subject, payload, { msgID: eventId, timeout: 10_000 });
        },
        onProgress,
      });
    },
    async close(): Promise<void> {
      await nc?.drain().catch(() => undefined);
      await pool.end();
    },
  };
}

export type UsersAdmin = Awaited<ReturnType<typeof openUsersAdmin>>;
