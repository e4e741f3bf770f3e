import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@um/contracts';
import { createLogger, createPool, migrate, runMain } from '@um/platform';
import { loadConfig, signingKeyRing } from './config.js';
import { createSigningKey, ensureSigningKey } from './keys/key-store.js';
import { MIGRATIONS_DIR } from './service.js';

/**
 * `npm run rotate-keys`: add a new signing key. Every replica signs with it within KEY_REFRESH_MS;
 * tokens signed with older keys keep verifying until they expire. Keys replaced longer ago than the
 * longest token lifetime can no longer verify anything alive, and are removed. With SIGNING_KEY_KEK
 * set, the new key is stored sealed under it.
 */
runMain('rotate-keys', async () => {
  const config = loadConfig(process.env);
  const log = createLogger('rotate-keys', config.LOG_LEVEL);
  await migrate(config.DATABASE_URL, config.AUTH_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.AUTH_DB_SCHEMA, 1);
  const keks = signingKeyRing(config);
  // Refuses (before adding anything) a KEK that cannot open the stored keys, and seals clear ones.
  await ensureSigningKey(pool, keks);
  const kid = await createSigningKey(pool, keks);
  const { rows } = await pool.query<{ kid: string }>(
    `DELETE FROM signing_keys k
      WHERE EXISTS (SELECT 1 FROM signing_keys newer WHERE newer.created_at > k.created_at AND newer.created_at < now() - make_interval(secs => $1))
      RETURNING kid`,
    // Until a newer key activates, the older one still signs: keep it a full token lifetime beyond that.
    [MAX_ACCESS_TOKEN_TTL_SECONDS + config.KEY_ACTIVATION_DELAY_MS / 1000 + 300],
  );
  log.info({ kid, removed: rows.map((r) => r.kid) }, 'signing key rotated');
  await pool.end();
  process.exit(0);
});
