// After a bulk seed: are the users indexes what real registrations would have left? The same set of
// indexes with the same definitions and storage options as a freshly migrated schema (none dropped,
// rebuilt or added by the seed), and the GIN pending lists as row-by-row inserts leave them (the
// seed inserts into live indexes and runs no VACUUM), reported so a reader can compare.
import { createLogger, migrate } from '@um/platform';
import { MIGRATIONS_DIR } from '@um/users-service/dist/service.js';
import pg from 'pg';

const indexesOf = async (client, schema) =>
  (
    await client.query(
      `SELECT i.indexname AS name, replace(i.indexdef, $1 || '.', '') AS def, coalesce(array_to_string(c.reloptions, ','), '') AS options
         FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
        WHERE i.schemaname = $1 AND i.tablename = 'users' ORDER BY i.indexname`,
      [schema],
    )
  ).rows;

/** `{ same, differences, gin: [{ name, pending_pages, pending_tuples }] }`; throws nothing, reports. */
export async function checkIndexes(url, schema) {
  const reference = `${schema}_ref`.slice(0, 63);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${reference}" CASCADE`);
    await migrate(url, reference, MIGRATIONS_DIR, createLogger('bench', 'warn'));
    const [seeded, fresh] = [await indexesOf(client, schema), await indexesOf(client, reference)];
    const key = (i) => `${i.name} ${i.def.replaceAll(`"${reference}".`, '').replaceAll(`${reference}.`, '')} ${i.options}`;
    const seen = new Set(seeded.map((i) => key({ ...i, def: i.def.replaceAll(`"${schema}".`, '') })));
    const want = new Set(fresh.map(key));
    const differences = [...[...want].filter((k) => !seen.has(k)).map((k) => `missing: ${k}`), ...[...seen].filter((k) => !want.has(k)).map((k) => `extra: ${k}`)];
    await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple WITH SCHEMA public');
    const gin = [];
    for (const i of seeded.filter((x) => / USING gin /.test(x.def))) {
      const { rows } = await client.query(`SELECT pending_pages, pending_tuples FROM public.pgstatginindex($1::regclass)`, [`"${schema}".${i.name}`]);
      gin.push({ name: i.name, options: i.options, ...rows[0] });
    }
    await client.query(`DROP SCHEMA "${reference}" CASCADE`);
    return { same: differences.length === 0, differences, gin };
  } finally {
    await client.end();
  }
}
