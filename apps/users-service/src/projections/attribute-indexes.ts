import { filterKind, type Profile } from '@um/contracts';
import type { Logger, Pool } from '@um/platform';
import { configPath } from '../application/queries.js';

/** The index that serves search on one declared attribute, by how it is matched. */
export function attributeIndexSql(name: string, profile: Profile): string {
  const kind = filterKind(profile.declaration(name)!);
  if (kind === 'substring') return `CREATE INDEX IF NOT EXISTS users_attr_${name}_trgm ON users USING gin (${configPath(name)} public.gin_trgm_ops)`;
  if (kind === 'exact') return `CREATE INDEX IF NOT EXISTS users_attr_${name} ON users (${configPath(name)})`;
  return `CREATE INDEX IF NOT EXISTS users_attr_${name}_gin ON users USING gin (${configPath(name, '->')} jsonb_path_ops)`;
}

/**
 * At start: an index for every searchable declared attribute, created if missing. Safe to repeat
 * and to run from replicas starting together (they take turns on an advisory lock). Indexes of
 * attributes no longer declared are left alone: dropping is the operator's call.
 */
export async function ensureAttributeIndexes(pool: Pool, profile: Profile, log: Logger): Promise<string[]> {
  const statements = profile.searchable().map((name) => attributeIndexSql(name, profile));
  if (!statements.length) return [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('users.attribute_indexes', 0))");
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
  log.info({ attributes: profile.searchable() }, 'search indexes of declared attributes in place');
  return statements;
}
