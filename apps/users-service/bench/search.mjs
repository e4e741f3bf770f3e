#!/usr/bin/env node
// Search benchmark: seeds BENCH_USERS synthetic users (default 200000; try 1000000) into a scratch
// schema with the real migrations, then times each search filter through the real query code and
// shows whether Postgres used an index. Prints numbers; asserts nothing.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:search -w @um/users-service
// BENCH_KEEP=1 keeps the seeded schema for the next run (BENCH_RESEED=1 seeds it again).
import { createLogger, createPool, migrate } from '@um/platform';
import pg from 'pg';
import { searchUsers } from '../dist/application/queries.js';
import { MIGRATIONS_DIR } from '../dist/service.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const n = Number(process.env.BENCH_USERS ?? 200_000);
const schema = `bench_users_${n}`;
const log = createLogger('bench', 'warn');

const admin = new pg.Client({ connectionString: url });
await admin.connect();
const exists = (await admin.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, 'users'])).rowCount;
await migrate(url, schema, MIGRATIONS_DIR, log);
if (!exists || process.env.BENCH_RESEED) {
  const t0 = performance.now();
  await admin.query(`TRUNCATE "${schema}".users`);
  await admin.query(
    `INSERT INTO "${schema}".users (id, username, username_key, email, email_key, config, role, email_verified, created_at, updated_at, version)
     SELECT i, u, lower(u), e, lower(e),
            jsonb_build_object('fio', 'Person ' || md5(i::text), 'birthday', to_char(date '1950-01-01' + (i % 20000), 'YYYY-MM-DD'),
                               'tags', jsonb_build_array('t' || (i % 50), 't' || (i % 7), 'group' || (i % 1000))),
            'user', false, now(), now(), 1
       FROM generate_series(1, $1) AS i, LATERAL (SELECT 'user_' || substr(md5(i::text), 1, 12) AS u, 'mail_' || i || '@example' || (i % 100) || '.com' AS e) x`,
    [n],
  );
  await admin.query(`ANALYZE "${schema}".users`);
  console.log(`seeded ${n} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const pool = createPool(url, schema, 4);
const sample = (await admin.query(`SELECT username, email, config FROM "${schema}".users LIMIT 1 OFFSET $1`, [Math.floor(n / 2)])).rows[0];
const cases = [
  ['username substring', { username: sample.username.slice(5, 13) }],
  ['email substring', { email: sample.email.slice(0, 10) }],
  ['fio substring', { fio: sample.config.fio.slice(10, 20) }],
  ['birthday exact', { birthday: sample.config.birthday }],
  ['tags (all of 2)', { tags: ['t3', 'group3'] }],
  ['fio + tags + birthday', { fio: 'person', tags: ['t3'], birthday: sample.config.birthday }],
  ['broad: tags t1 (2% of users)', { tags: ['t1'] }],
];
console.log(`\n${n} users, median of 7 runs, limit 100 (includes the count for X-Total-Count)`);
console.log('case'.padEnd(32), 'ms'.padStart(8), 'total'.padStart(9), '  plan');
for (const [name, filter] of cases) {
  const q = { limit: 100, offset: 0, ...filter };
  const times = [];
  let total = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    total = (await searchUsers(pool, q)).total;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const where = [
    q.username && `username ILIKE '%${q.username}%'`,
    q.email && `email ILIKE '%${q.email}%'`,
    q.fio && `(config ->> 'fio') ILIKE '%${q.fio}%'`,
    q.birthday && `(config ->> 'birthday') = '${q.birthday}'`,
    q.tags && `(config -> 'tags') @> '${JSON.stringify(q.tags)}'::jsonb`,
  ].filter(Boolean);
  const plan = (await admin.query(`EXPLAIN SELECT * FROM "${schema}".users WHERE ${where.join(' AND ')} ORDER BY id LIMIT 100`)).rows.map((r) => r['QUERY PLAN']).join(' ');
  const index = /Index|Bitmap/.test(plan) ? (plan.match(/(?:Index|Bitmap Index) Scan (?:using|on) (\w+)/g) ?? ['index']).join(', ') : 'SEQ SCAN';
  console.log(name.padEnd(32), times[3].toFixed(1).padStart(8), String(total).padStart(9), ' ', index);
}
await pool.end();
// The seeded schema is large; keep it for another run only when asked.
if (!process.env.BENCH_KEEP) await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
