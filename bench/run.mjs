#!/usr/bin/env node
// `npm run bench [-- --users 1000000]`: the system (gateway → NATS → users-service → Postgres, as
// `npm start` runs it, every request logged) side by side with the single-process Express + pg
// baseline (baseline.mjs, the shared kit's), on identical data and indexes in a database of its own.
// Writes bench/results/latest.{json,md,png} and puts the table and chart into the README.
// Options: --users N (100000) --seconds S (10) --conn C (16) --rounds R (2) --mixes selective,broad,list
//          --bcrypt-cost K (4: the read workloads do not hash) --no-readme
//          --writes: also logins and registrations at that cost against the bcrypt bound (use --bcrypt-cost 12)
// Workload `pages` (in the default set): list pages reached by cursor on the system, by offset on the baseline.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, migrate } from '@um/platform';
import { encodeCursor } from '@um/users-service/dist/application/cursor.js';
import { MIGRATIONS_DIR } from '@um/users-service/dist/service.js';
import pg from 'pg';
import { chartPng } from './chart.mjs';
import { checkIndexes } from './index-check.mjs';
import { sideBySide } from './load.mjs';
import { markdown, updateReadme } from './report.mjs';
import { seedSystem } from './seed-system.mjs';
import { writesWorkload } from './writes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const settings = {
  users: Number(opt('users', 100_000)),
  seconds: Number(opt('seconds', 10)),
  conn: Number(opt('conn', 16)),
  rounds: Number(opt('rounds', 2)),
  mixes: opt('mixes', 'selective,broad,list,pages').split(','),
  bcryptCost: Number(opt('bcrypt-cost', 4)),
};
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'um_bench';
const url = Object.assign(new URL(baseUrl), { pathname: `/${database}` }).toString();
const [systemPort, baselinePort] = [18981, 18901];
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const resultsDir = `${here}results/`;
mkdirSync(resultsDir, { recursive: true });

const children = [];
/** Start a process group of its own (so the whole tree can be stopped), output to a log file. */
function start(name, cmd, args, env, cwd) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(`${resultsDir}${name}.log`);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  children.push(child);
  return child;
}
function stopAll() {
  for (const c of children) if (c.exitCode === null) process.kill(-c.pid, 'SIGTERM');
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

async function waitFor(check, what, seconds = 120) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} did not come up within ${seconds} s`);
}

async function json(path, body, token) {
  const res = await fetch(`http://127.0.0.1:${systemPort}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => undefined), headers: res.headers };
}

/** The node processes `npm start` runs, by app name (their working directory is apps/<name>). */
function appPids(parent) {
  const out = {};
  for (const pid of readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    const app = /apps\/([^/]+)$/.exec(readlinkSync(`/proc/${pid}/cwd`))?.[1];
    if (app) out[app] = Number(pid);
  }
  return out;
}
const rssMb = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);

async function main() {
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  log(`${settings.users} users; load average ${loadBefore}`);
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  // The system: its schema as its migrations make it, then the bulk registrations, then a check.
  await migrate(url, 'bench_users', MIGRATIONS_DIR, createLogger('bench', 'warn'));
  let shown = 0;
  const systemSeconds = await seedSystem({
    url,
    schema: 'bench_users',
    n: settings.users,
    bcryptCost: settings.bcryptCost,
    onProgress: (done) => {
      if (done - shown >= 100_000 || done === settings.users) log(`system seeded ${(shown = done)}`);
    },
  });
  log(`system seeded in ${systemSeconds.toFixed(1)} s`);
  const indexes = await checkIndexes(url, 'bench_users');
  log(`indexes as migrated: ${indexes.same}; GIN pending pages ${indexes.gin.map((g) => `${g.name}=${g.pending_pages}`).join(' ')}`);

  // The baseline: the kit's seeder (indexes built after loading).
  const t0 = performance.now();
  const seeding = start('baseline-seed', process.execPath, [`${here}baseline.mjs`, '--seed', String(settings.users)], { DATABASE_URL: url });
  await new Promise((resolve, reject) => seeding.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`baseline seed exited ${code}`)))));
  const baselineSeconds = (performance.now() - t0) / 1000;
  log(`baseline seeded in ${baselineSeconds.toFixed(1)} s`);

  const baseline = start('baseline', process.execPath, [`${here}baseline.mjs`], { DATABASE_URL: url, PORT: String(baselinePort) });
  const system = start(
    'system',
    process.execPath,
    ['scripts/start.mjs'],
    {
      DATABASE_URL: url,
      PORT: String(systemPort),
      NATS_NAMESPACE: `umbench${process.pid}`,
      USERS_DB_SCHEMA: 'bench_users',
      AUTH_DB_SCHEMA: 'bench_auth',
      MAIL_DB_SCHEMA: 'bench_mail',
      BCRYPT_COST: String(settings.bcryptCost),
      REGISTRATION_RATE_LIMIT: '1000000',
      LOGIN_THROTTLE_FREE_ATTEMPTS: '1000000',
    },
    root,
  );
  await waitFor(async () => (await fetch(`http://127.0.0.1:${systemPort}/readyz`)).ok, 'the system');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${baselinePort}/users?limit=1`)).ok, 'the baseline');

  const reader = { username: 'bench_reader', email: 'bench_reader@example.com', password: 'bench reader password', fio: 'Bench Reader', birthday: '1990-01-01' };
  const registered = await json('/register', reader);
  if (registered.status !== 201) throw new Error(`registering the reader: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await json('/login', { username: reader.username, password: reader.password });
  const token = login.body?.access_token;
  if (!token) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);

  const pids = appPids(system.pid);
  // The cursor of the page starting at the i-th seeded user is the sort key of the one before it.
  const ids = new pg.Client({ connectionString: url, options: '-c search_path=bench_users' });
  await ids.connect();
  // `id` is a bigint column, which pg returns as a string: the cursor carries the number.
  const seededIds = (await ids.query(`SELECT id FROM users WHERE username <> $1 ORDER BY id`, [reader.username])).rows.map((r) => Number(r.id));
  await ids.end();
  const cursors = seededIds.map((_, i) => (i === 0 ? '' : encodeCursor(seededIds[i - 1])));
  // A workload of refused requests measures nothing: check a cursor page answers before measuring.
  const probe = await json(`/users?limit=20&cursor=${cursors[Math.min(1, cursors.length - 1)] ?? ''}`, undefined, token);
  if (probe.status !== 200) throw new Error(`a cursor page answered ${probe.status}: ${JSON.stringify(probe.body)}`);
  const workloads = [];
  for (const mix of settings.mixes) {
    log(`workload ${mix}`);
    const w = await sideBySide({
      mix,
      n: settings.users,
      seconds: settings.seconds,
      conn: settings.conn,
      rounds: settings.rounds,
      system: { url: `http://127.0.0.1:${systemPort}`, token, watch: { gateway: pids.gateway, 'users-service': pids['users-service'] } },
      baseline: { url: `http://127.0.0.1:${baselinePort}`, watch: { baseline: baseline.pid } },
      cursors,
    });
    log(
      `${mix}: system ${w.system.rps} req/s p50 ${w.system.p50} p99 ${w.system.p99}; baseline ${w.baseline.rps} req/s p50 ${w.baseline.p50} p99 ${w.baseline.p99}; ratio ${w.ratio}`,
    );
    workloads.push(w);
  }

  let writes;
  if (argv.includes('--writes')) {
    log(`logins and registrations at bcrypt cost ${settings.bcryptCost}`);
    writes = await writesWorkload({ url: `http://127.0.0.1:${systemPort}`, token, n: settings.users, cost: settings.bcryptCost, seconds: settings.seconds });
    log(
      `bound ${writes.bound}/s; login ${writes.login.rps}/s (${writes.login.ratio}×); register ${writes.register.rps}/s (${writes.register.ratio}×); read p99 idle ${writes.reads.idle.p99} ms, during logins ${writes.reads.duringLogins.p99} ms`,
    );
  }

  const rss = Object.fromEntries([...Object.entries(pids).map(([app, pid]) => [app, rssMb(pid)]), ['baseline', rssMb(baseline.pid)]]);
  const errors = workloads.flatMap((w) =>
    ['system', 'baseline'].filter((s) => w[s].non2xx || w[s].errors).map((s) => `${w.mix} ${s}: ${w[s].non2xx} non-2xx, ${w[s].errors} errors`),
  );
  const result = {
    users: settings.users,
    settings,
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.cpus().length,
      memGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadBefore,
      loadAfter: os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    },
    finishedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    seed: { systemSeconds: Math.round(systemSeconds), baselineSeconds: Math.round(baselineSeconds), indexes },
    workloads,
    ...(writes ? { writes } : {}),
    rssMb: rss,
    errors,
  };
  const table = markdown(result);
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${resultsDir}latest.md`, table);
  writeFileSync(`${resultsDir}latest.png`, chartPng(result));
  if (!argv.includes('--no-readme')) updateReadme(`${root}README.md`, table);
  console.log(`\n${table}`);
  if (errors.length) {
    console.error(`requests failed during the run (${errors.join('; ')}): those ratios do not count`);
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  stopAll();
}
