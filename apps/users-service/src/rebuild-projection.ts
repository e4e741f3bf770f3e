import { createLogger, createPool, migrate, runMain, withTransaction } from '@um/platform';
import { loadConfig } from './config.js';
import { rebuildUsersProjection } from './projections/users-projection.js';
import { MIGRATIONS_DIR } from './service.js';

/** `npm run rebuild-projection`: replay every event into a fresh `users` table. */
runMain('rebuild-projection', async () => {
  const config = loadConfig(process.env);
  const log = createLogger('rebuild-projection', config.LOG_LEVEL);
  await migrate(config.DATABASE_URL, config.USERS_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.USERS_DB_SCHEMA, 1);
  const started = performance.now();
  const events = await withTransaction(pool, (client) => rebuildUsersProjection(client));
  const { rows } = await pool.query<{ n: string; lookalikes: string }>('SELECT count(*) AS n, count(*) FILTER (WHERE username_skeleton IS NULL) AS lookalikes FROM users');
  log.info({ events, users: Number(rows[0]!.n), duration_ms: Math.round(performance.now() - started) }, 'projection rebuilt');
  if (Number(rows[0]!.lookalikes)) log.warn({ users: Number(rows[0]!.lookalikes) }, "usernames that look like older accounts' were kept (grandfathered, without a skeleton)");
  await pool.end();
  process.exit(0);
});
