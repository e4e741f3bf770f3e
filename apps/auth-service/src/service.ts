import { fileURLToPath } from 'node:url';
import {
  connectNats,
  createLogger,
  createPool,
  createMetricsRegistry,
  startMetricsServer,
  IdempotencyStore,
  jetStreamOf,
  migrate,
  openRevocations,
  purgeExpiredKeysEvery,
  revokeSessionTokens,
  RetryPolicy,
  RevocationCache,
  RpcClient,
  TokenVerifier,
  startHealthServer,
  connectedTo,
  type Logger,
  serverSecret,
} from '@um/platform';
import type { AuthDeps } from './application/deps.js';
import { signingKeyRing, type AuthConfig } from './config.js';
import { serveAuth } from './endpoints.js';
import { UserErasureConsumer } from './consumers/user-erasure.js';
import { resolveLegacyUsersInBackground } from './application/legacy-users.js';
import { ensureSigningKey, loadKeySet, type KeySet } from './keys/key-store.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Start auth-service: migrate, make sure a signing key exists, answer RPCs, pick up rotated keys. */
export async function startAuthService(config: AuthConfig, log: Logger = createLogger('auth-service', config.LOG_LEVEL)) {
  await migrate(config.DATABASE_URL, config.AUTH_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.AUTH_DB_SCHEMA);
  const keks = signingKeyRing(config);
  if (!keks.current)
    log.warn('signing keys are stored in clear in the database: set SIGNING_KEY_KEK to 32 random bytes as base64 or hex (e.g. `openssl rand -base64 32`) to encrypt them at rest');
  const upgrade = await ensureSigningKey(pool, keks).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
  if (upgrade.sealed.length || upgrade.resealed.length) log.info({ kek: keks.current?.id, ...upgrade }, 'signing keys sealed under the current SIGNING_KEY_KEK');
  let keys: KeySet = await loadKeySet(pool, keks, config.KEY_ACTIVATION_DELAY_MS);
  const refresh = setInterval(() => {
    loadKeySet(pool, keks, config.KEY_ACTIVATION_DELAY_MS).then(
      (k) => (keys = k),
      (err) => log.warn({ err }, 'could not refresh signing keys'),
    );
  }, config.KEY_REFRESH_MS);
  refresh.unref();

  const nc = await connectNats(config, 'auth-service', log);
  const revocations = await openRevocations(nc, config.NATS_NAMESPACE, config.JETSTREAM_REPLICAS);
  const metrics = createMetricsRegistry('auth-service');
  const deps: AuthDeps = {
    pool,
    log,
    rpc: new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS, RetryPolicy.fromConfig(config), undefined, metrics),
    signingKey: () => keys.signing,
    jwks: () => keys.jwks,
    revokeSessions: async (ids) => {
      for (const id of ids) await revokeSessionTokens(revocations, id);
    },
    accessTokenTtl: config.ACCESS_TOKEN_TTL,
    refreshTokenTtl: config.REFRESH_TOKEN_TTL,
    refreshReuseIntervalSeconds: config.REFRESH_REUSE_INTERVAL,
    mfaTicketTtlSeconds: config.MFA_TICKET_TTL,
    reauthWindowSeconds: config.REAUTH_WINDOW,
    throttleSecret: await serverSecret(pool, 'throttle', keks),
    deviceSecret: await serverSecret(pool, 'device', keks),
    throttle: {
      freeAttempts: config.LOGIN_THROTTLE_FREE_ATTEMPTS,
      addressFreeAttempts: config.LOGIN_THROTTLE_ADDRESS_FREE_ATTEMPTS,
      accountMaxDelaySeconds: config.LOGIN_THROTTLE_ACCOUNT_MAX_DELAY,
      addressMaxDelaySeconds: config.LOGIN_THROTTLE_ADDRESS_MAX_DELAY,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW,
      ipv6Prefix: config.THROTTLE_IPV6_PREFIX,
    },
    clock: () => new Date(),
    idempotency: new IdempotencyStore(await serverSecret(pool, 'idempotency', keks)),
  };
  const stopPurge = purgeExpiredKeysEvery(pool, deps.idempotency, 3_600_000, (err) => log.warn({ err }, 'could not purge expired idempotency keys'));
  // The tokens the gateway forwards (logout, password change, disabling TOTP) are checked against this service's own keys and the revocations.
  const watch = await RevocationCache.start(revocations, log);
  const tokens = new TokenVerifier(async () => keys.jwks, watch.cache, log, config.ACCESS_TOKEN_TTL);
  const server = serveAuth(nc, config.NATS_NAMESPACE, deps, tokens, metrics);
  const legacy = resolveLegacyUsersInBackground(deps);
  const { js, jsm } = await jetStreamOf(nc);
  const erasure = new UserErasureConsumer({ js, jsm, pool, namespace: config.NATS_NAMESPACE, replicas: config.JETSTREAM_REPLICAS, log });
  await erasure.start();
  const health = startHealthServer(config.HEALTH_PORT, connectedTo(nc, pool));
  const metricsServer = await startMetricsServer(config.METRICS_PORT, metrics, log);
  log.info({ namespace: config.NATS_NAMESPACE ?? null, schema: config.AUTH_DB_SCHEMA, kid: keys.signing.kid }, 'auth-service ready');

  return {
    log,
    deps,
    metricsServer,
    stop: async () => {
      // Take no new requests, answer the ones in hand, then let go of NATS and the database.
      await server.drain();
      watch.stop();
      legacy.stop();
      await legacy.done;
      clearInterval(refresh);
      stopPurge();
      await erasure.stop();
      health?.close();
      metricsServer?.close();
      await nc.drain();
      await pool.end();
    },
  };
}
