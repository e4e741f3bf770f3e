import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, migrate, withTransaction, type Pool } from './db.js';
import { createLogger } from './logger.js';

const DATABASE_URL = testInfra().databaseUrl;

const schemas: string[] = [];
const dirs: string[] = [];
/** A schema name nobody else uses; dropped after the file. */
const freshSchema = () => {
  const s = `pt_${randomBytes(6).toString('hex')}`;
  schemas.push(s);
  return s;
};

let admin: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
});

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'platform-migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return dir;
}

const FIRST = `-- Up Migration
CREATE TABLE things (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO things (id, name) VALUES (1, 'seed');

-- Down Migration
DROP TABLE things;
`;

/** A logger that keeps its lines, to see what `migrate` reported. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('platform-db-test', 'info', {}, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

describe('migrate', () => {
  it('applies a migration once when two runs race on a fresh schema', async () => {
    const schema = freshSchema();
    const dir = await migrationsDir({ '1700000000000_things.sql': FIRST });
    const { log, lines } = capturingLogger();

    await Promise.all([migrate(DATABASE_URL, schema, dir, log), migrate(DATABASE_URL, schema, dir, log)]);

    const applied = await admin.query(`SELECT name FROM "${schema}".pgmigrations ORDER BY id`);
    expect(applied.rows.map((r) => r.name)).toEqual(['1700000000000_things']);
    const seeded = await admin.query(`SELECT id, name FROM "${schema}".things`);
    expect(seeded.rows).toEqual([{ id: 1, name: 'seed' }]);
    const reports = lines.filter((l) => l.msg === 'migrations applied');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ schema, migrations: ['1700000000000_things'] });
  });

  it('creates the tables in the given schema, not in public', async () => {
    const schema = freshSchema();
    const dir = await migrationsDir({ '1700000000000_things.sql': FIRST });
    await migrate(DATABASE_URL, schema, dir, createLogger('t', 'silent'));
    const where = await admin.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'things' AND table_schema = ANY($1)`, [[schema, 'public']]);
    expect(where.rows).toEqual([{ table_schema: schema }]);
  });

  it('applies only what is new on a later run', async () => {
    const schema = freshSchema();
    const dir = await migrationsDir({ '1700000000000_things.sql': FIRST });
    const { log, lines } = capturingLogger();
    await migrate(DATABASE_URL, schema, dir, log);
    await writeFile(
      join(dir, '1700000000001_more.sql'),
      `-- Up Migration\nALTER TABLE things ADD COLUMN note text;\nINSERT INTO things (id, name) VALUES (2, 'second');\n\n-- Down Migration\nALTER TABLE things DROP COLUMN note;\n`,
    );
    await migrate(DATABASE_URL, schema, dir, log);
    await migrate(DATABASE_URL, schema, dir, log);
    const applied = await admin.query(`SELECT name FROM "${schema}".pgmigrations ORDER BY id`);
    expect(applied.rows.map((r) => r.name)).toEqual(['1700000000000_things', '1700000000001_more']);
    const rows = await admin.query(`SELECT id FROM "${schema}".things ORDER BY id`);
    expect(rows.rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(lines.filter((l) => l.msg === 'migrations applied').map((l) => l.migrations)).toEqual([['1700000000000_things'], ['1700000000001_more']]);
  });

  it('leaves nothing behind when a migration fails, and rejects', async () => {
    const schema = freshSchema();
    const dir = await migrationsDir({
      '1700000000000_things.sql': FIRST,
      '1700000000001_broken.sql': `-- Up Migration\nCREATE TABLE other (id int);\nSELECT * FROM no_such_table;\n\n-- Down Migration\n`,
    });
    await expect(migrate(DATABASE_URL, schema, dir, createLogger('t', 'silent'))).rejects.toThrow(/no_such_table/);
    const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('things', 'other')`, [schema]);
    expect(tables.rows).toEqual([]);
    // the advisory lock was released: another run can proceed at once
    const ok = await migrationsDir({ '1700000000000_things.sql': FIRST });
    const other = freshSchema();
    await migrate(DATABASE_URL, other, ok, createLogger('t', 'silent'));
    const count = await admin.query(`SELECT count(*)::int AS n FROM "${other}".things`);
    expect(count.rows[0].n).toBe(1);
  });
});

describe('createPool / withTransaction', () => {
  let schema: string;
  let pool: Pool;

  beforeAll(async () => {
    schema = freshSchema();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".items (id integer PRIMARY KEY, label text NOT NULL)`);
    pool = createPool(DATABASE_URL, schema, 3);
  });

  afterAll(async () => {
    await pool.end();
  });

  const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".items`)).rows[0].n);

  it('pins search_path to the schema', async () => {
    const r = await pool.query('SHOW search_path');
    expect(r.rows[0].search_path).toBe(`${schema},public`);
  });

  it('commits and returns the result when the function succeeds', async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO items (id, label) VALUES (1, 'kept')`);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await count()).toBe(1);
  });

  it('rolls back everything and rethrows the same error when the function fails', async () => {
    const before = await count();
    const boom = new Error('boom');
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO items (id, label) VALUES (100, 'a')`);
        await client.query(`INSERT INTO items (id, label) VALUES (101, 'b')`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await count()).toBe(before);
    const gone = await admin.query(`SELECT id FROM "${schema}".items WHERE id IN (100, 101)`);
    expect(gone.rows).toEqual([]);
  });

  it('rolls back when a statement fails, and the client is usable afterwards', async () => {
    const before = await count();
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO items (id, label) VALUES (200, 'a')`);
        await client.query(`INSERT INTO items (id, label) VALUES (200, 'duplicate')`);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await count()).toBe(before);
    // every client went back to the pool, none left inside an aborted transaction
    expect(pool.idleCount).toBe(pool.totalCount);
    for (let i = 0; i < 5; i++) {
      const r = await pool.query('SELECT txid_current_if_assigned() AS t, current_setting($1) AS sp', ['search_path']);
      expect(r.rows[0].t).toBeNull();
    }
    await withTransaction(pool, (client) => client.query(`INSERT INTO items (id, label) VALUES (300, 'after')`));
    expect(await count()).toBe(before + 1);
  });

  it('isolates uncommitted work from other connections', async () => {
    let seenInside = -1;
    let seenOutside = -1;
    await withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO items (id, label) VALUES (400, 'pending')`);
      seenInside = Number((await client.query('SELECT count(*) AS n FROM items WHERE id = 400')).rows[0].n);
      seenOutside = Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".items WHERE id = 400`)).rows[0].n);
    });
    expect(seenInside).toBe(1);
    expect(seenOutside).toBe(0);
    expect(Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".items WHERE id = 400`)).rows[0].n)).toBe(1);
  });
});
