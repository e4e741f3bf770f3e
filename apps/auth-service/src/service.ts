import { fileURLToPath } from 'node:url';
import { connectNats, createLogger, createPool, migrate, RpcClient, startHealthServer, type Logger } from '@um/platform';
import type { AuthConfig } from './config.js';
import { serveAuth } from './endpoints.js';
import { ensureSigningKey, loadKeySet, type KeySet } from './keys/key-store.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Start auth-service: migrate, make sure a signing key exists, answer RPCs, pick up rotated keys. */
export async function startAuthService(config: AuthConfig, log: Logger = createLogger('auth-service', config.LOG_LEVEL)) {
  await migrate(config.DATABASE_URL, config.AUTH_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.AUTH_DB_SCHEMA);
  await ensureSigningKey(pool);
  let keys: KeySet = await loadKeySet(pool);
  const refresh = setInterval(() => {
    loadKeySet(pool).then(
      (k) => (keys = k),
      (err) => log.warn({ err }, 'could not refresh signing keys'),
    );
  }, config.KEY_REFRESH_MS);
  refresh.unref();

  const nc = await connectNats(config.NATS_URL, 'auth-service', log);
  const subs = serveAuth(nc, config.NATS_NAMESPACE, {
    pool,
    log,
    rpc: new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS),
    signingKey: () => keys.signing,
    jwks: () => keys.jwks,
    accessTokenTtl: config.ACCESS_TOKEN_TTL,
  });
  const health = startHealthServer(config.HEALTH_PORT, async () => !nc.isClosed() && (await pool.query('SELECT 1').then(() => true, () => false)));
  log.info({ namespace: config.NATS_NAMESPACE ?? null, schema: config.AUTH_DB_SCHEMA, kid: keys.signing.kid }, 'auth-service ready');

  return {
    log,
    stop: async () => {
      clearInterval(refresh);
      for (const s of subs) s.unsubscribe();
      health?.close();
      await nc.drain();
      await pool.end();
    },
  };
}
