import { fileURLToPath } from 'node:url';
import { Rpcs, usersEventsStream } from '@um/contracts';
import {
  connectNats,
  createLogger,
  createPool,
  createMetricsRegistry,
  startMetricsServer,
  ensureStream,
  jetStreamOf,
  migrate,
  openRevocations,
  purgeExpiredKeysEvery,
  RetryPolicy,
  RevocationCache,
  RpcClient,
  TokenVerifier,
  revokeUserTokens,
  startHealthServer,
  connectedTo,
  type Logger,
  loadProfile,
} from '@um/platform';
import { ensureAdmin } from './application/ensure-admin.js';
import type { UsersConfig } from './config.js';
import { serveUsers } from './endpoints.js';
import { registerUsersMetrics } from './metrics.js';
import { ensureAttributeIndexes } from './projections/attribute-indexes.js';
import { backfillUsernameSkeletons } from './projections/backfill-username-skeletons.js';
import { EventRelay } from './relay/relay.js';
import { revokeFor } from './relay/revocations.js';
import { createUsersDeps } from './users-deps.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Start users-service: migrate, connect, seed the admin, then answer RPCs. Returns its stop function. */
export async function startUsersService(config: UsersConfig, log: Logger = createLogger('users-service', config.LOG_LEVEL)) {
  // First: a profile schema this service cannot use stops the start before anything else is touched.
  const profile = loadProfile(config.PROFILE_SCHEMA);
  await migrate(config.DATABASE_URL, config.USERS_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.USERS_DB_SCHEMA);
  await backfillUsernameSkeletons(pool, log);
  await ensureAttributeIndexes(pool, profile, log);
  const nc = await connectNats(config, 'users-service', log);
  const revocations = await openRevocations(nc, config.NATS_NAMESPACE, config.JETSTREAM_REPLICAS);
  const deps = await createUsersDeps(config, pool, log, (userId, belowVersion) => revokeUserTokens(revocations, userId, belowVersion), profile);
  const metrics = createMetricsRegistry('users-service');
  registerUsersMetrics(metrics, { pool, schema: config.USERS_DB_SCHEMA, hasher: deps.hasher });
  const stopPurge = purgeExpiredKeysEvery(pool, deps.idempotency, 3_600_000, (err) => log.warn({ err }, 'could not purge expired idempotency keys'));
  if (config.ADMIN_USERNAME && config.ADMIN_EMAIL && config.ADMIN_PASSWORD)
    await ensureAdmin(deps, { username: config.ADMIN_USERNAME, email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  // The tokens the gateway forwards are verified as the gateway does: auth-service's keys, the revocation bucket.
  const watch = await RevocationCache.start(revocations, log);
  const rpc = new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS, RetryPolicy.fromConfig(config));
  const tokens = new TokenVerifier(() => rpc.call(Rpcs.auth.jwks, {}, { requestId: 'jwks', timeoutMs: 2000 }), watch.cache, log, config.ACCESS_TOKEN_TTL);
  // Not awaited: auth-service may start after this service; the first forwarded token loads the keys.
  void tokens.warmUp();
  const server = serveUsers(nc, config.NATS_NAMESPACE, deps, tokens, metrics);
  const { js, jsm } = await jetStreamOf(nc);
  let streamReady = false;
  const relay = new EventRelay({
    pool,
    databaseUrl: config.DATABASE_URL,
    schema: config.USERS_DB_SCHEMA,
    namespace: config.NATS_NAMESPACE,
    log,
    pollMs: config.RELAY_POLL_MS,
    prepare: async () => {
      if (!streamReady) await ensureStream(jsm, usersEventsStream(config.NATS_NAMESPACE), config.JETSTREAM_REPLICAS);
      streamReady = true;
    },
    // The durable half of token revocation: whatever happened to the fast path after the commit.
    beforePublish: (event) => revokeFor(event, deps.revokeTokens),
    publish: async (subject, payload, eventId) => {
      await js.publish(subject, payload, { msgID: eventId, timeout: 5000 });
    },
  });
  relay.start();
  const health = startHealthServer(config.HEALTH_PORT, connectedTo(nc, pool));
  const metricsServer = await startMetricsServer(config.METRICS_PORT, metrics, log);
  log.info({ namespace: config.NATS_NAMESPACE ?? null, schema: config.USERS_DB_SCHEMA }, 'users-service ready');

  return {
    deps,
    log,
    relay,
    metricsServer,
    stop: async () => {
      // Take no new requests, answer the ones in hand, then let go of NATS and the database.
      await server.drain();
      watch.stop();
      stopPurge();
      await relay.stop();
      health?.close();
      metricsServer?.close();
      await nc.drain();
      await pool.end();
    },
  };
}
