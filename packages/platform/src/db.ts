import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from './logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** One pool per process, with `search_path` pinned to the service's own schema. */
export function createPool(databaseUrl: string, schema: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    options: `-c search_path=${schema},public`,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/** Advisory-lock key shared by every migration run in the database (replicas and services alike). */
const MIGRATION_LOCK = 7_241_865_325_823_965n;

/**
 * Apply pending migrations from `dir` into `schema`. A blocking advisory lock makes
 * concurrent starts safe: the second replica waits, then finds nothing left to do.
 */
export async function migrate(databaseUrl: string, schema: string, dir: string, log: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    const applied = await runner({
      dbClient: client,
      dir,
      direction: 'up',
      schema,
      createSchema: true,
      migrationsTable: 'pgmigrations',
      noLock: true,
      singleTransaction: true,
      log: () => undefined,
    });
    if (applied.length) log.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
    await client.end();
  }
}

/** Run `fn` in a transaction on one client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
