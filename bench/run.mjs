#!/usr/bin/env node
// `npm run bench [-- --users 1000000]`: the system (gateway → NATS → users-service → Postgres, as
// `npm start` runs it, every request logged) side by side with the single-process Express + pg
// baseline (baseline.mjs, the shared kit's), on identical data and indexes in a database of its own.
// Writes bench/results/latest.{json,md,png} (and <N>-users.{json,md}) and puts the table and chart into the README.
// Options: --users N (100000) --seconds S (10) --conn C (16) --rounds R (2) --mixes selective,broad,list,pages
//          --paced selective,broad,pages: those mixes again at a fixed rate, half the system's maximum ('' for none)
//          --bcrypt-cost K (4: the read workloads do not hash) --no-readme
//          --writes: also logins and registrations at that cost against the bcrypt bound (use --bcrypt-cost 12)
//          --no-freshness: skip the search timing on the indexes as left, then rebuilt (index-freshness.mjs)
//          --database NAME (um_bench: dropped and created afresh)
//          --compare-node PATH: instead of the baseline, the same system again on the Node.js at PATH (e.g.
//            /usr/bin/node), both on the same users: req/s, latency, CPU and RSS per service on each runtime
//            (bench/results/runtimes.{json,md}, the README's runtimes table; --paced '' by default)
// Workload `pages`: list pages reached by cursor on the system, by offset on the baseline.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, migrate } from '@um/platform';
import { encodeCursor } from '@um/users-service/dist/application/cursor.js';
import { MIGRATIONS_DIR } from '@um/users-service/dist/service.js';
import pg from 'pg';
import { chartPng } from './chart.mjs';
import { checkIndexes } from './index-check.mjs';
import { indexFreshness } from './index-freshness.mjs';
import { pacedSideBySide, sideBySide } from './load.mjs';
import { appPids, cpuSeconds, natsServerPid, postmasterPid, rssMb, treeCpuSeconds } from './processes.mjs';
import { markdown, runtimesMarkdown, updateReadme } from './report.mjs';
import { seedSystem } from './seed-system.mjs';
import { settler } from './settle.mjs';
import { writesWorkload } from './writes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const compareNode = opt('compare-node', undefined);
const settings = {
  users: Number(opt('users', 100_000)),
  seconds: Number(opt('seconds', 10)),
  conn: Number(opt('conn', 16)),
  rounds: Number(opt('rounds', 2)),
  mixes: opt('mixes', 'selective,broad,list,pages').split(','),
  paced: opt('paced', compareNode ? '' : 'selective,broad,pages')
    .split(',')
    .filter(Boolean),
  bcryptCost: Number(opt('bcrypt-cost', 4)),
};
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = opt('database', 'um_bench');
const url = Object.assign(new URL(baseUrl), { pathname: `/${database}` }).toString();
const [systemPort, baselinePort, otherSystemPort] = [18981, 18901, 18982];
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const resultsDir = `${here}results/`;
mkdirSync(resultsDir, { recursive: true });

const children = [];
/**
 * Start a process group of its own (so the whole tree can be stopped), its output straight into a
 * log file: not relayed through this process, whose event loop drives the load (a driver busy with
 * a million log lines measures its own lag, and a pipe it drains late stalls the writers).
 */
function start(name, cmd, args, env, cwd) {
  const out = openSync(`${resultsDir}${name}.log`, 'w');
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
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

async function json(path, body, token, port = systemPort) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => undefined), headers: res.headers };
}

/**
 * The system as `npm start` runs it (scripts/start.mjs, real processes), on the Node.js at `node`.
 * `side` names its own NATS namespace and auth and mail schemas; the users schema is the seeded one.
 */
function startSystem(name, node, port, side = '', env = {}) {
  return start(
    name,
    node,
    ['scripts/start.mjs'],
    {
      DATABASE_URL: url,
      PORT: String(port),
      NATS_NAMESPACE: `umbench${side}${process.pid}`,
      USERS_DB_SCHEMA: 'bench_users',
      AUTH_DB_SCHEMA: `bench_auth${side}`,
      MAIL_DB_SCHEMA: `bench_mail${side}`,
      BCRYPT_COST: String(settings.bcryptCost),
      REGISTRATION_RATE_LIMIT: '1000000',
      LOGIN_THROTTLE_FREE_ATTEMPTS: '1000000',
      ...env,
    },
    root,
  );
}

const reader = { username: 'bench_reader', email: 'bench_reader@example.com', password: 'bench reader password', fio: 'Bench Reader', birthday: '1990-01-01' };

async function loginReader(port) {
  const login = await json('/login', { username: reader.username, password: reader.password }, undefined, port);
  const token = login.body?.access_token;
  if (!token) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  return token;
}

/** The cursor of the page starting at the i-th seeded user is the sort key of the one before it; and the shared servers' pids. */
async function seededCursors() {
  const ids = new pg.Client({ connectionString: url, options: '-c search_path=bench_users' });
  await ids.connect();
  // `id` is a bigint column, which pg returns as a string: the cursor carries the number.
  const seededIds = (await ids.query(`SELECT id FROM users WHERE username <> $1 ORDER BY id`, [reader.username])).rows.map((r) => Number(r.id));
  // Shared servers on this machine, watched on both sides (the runs alternate, so each side's share is its own).
  const [nats, postmaster] = [natsServerPid(), await postmasterPid(ids)];
  await ids.end();
  return { cursors: seededIds.map((_, i) => (i === 0 ? '' : encodeCursor(seededIds[i - 1]))), nats, postmaster };
}

const cpu = (pid, read = cpuSeconds) => (pid ? () => read(pid) : undefined);
const watching = (entries) => Object.fromEntries(Object.entries(entries).filter(([, read]) => read));
const loadNow = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/**
 * `--compare-node`: the system on this Node.js (the pinned one, under npm) and the same system on
 * another, on the same seeded users, each workload alternated between them as against the baseline.
 */
async function compareRuntimes({ loadBefore, systemSeconds, indexes }) {
  const versionOf = (node) => execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  const runtimes = { system: { node: process.execPath, version: process.version }, baseline: { node: compareNode, version: versionOf(compareNode) } };
  log(`system on ${runtimes.system.version} (${runtimes.system.node}) against the same on ${runtimes.baseline.version} (${compareNode})`);
  // The other runtime may be older than the apps accept: they start anyway, saying so in their log.
  const systems = {
    system: startSystem('system', process.execPath, systemPort),
    baseline: startSystem('system-other-node', compareNode, otherSystemPort, 'b', { NODE_VERSION_CHECK: 'off' }),
  };
  const ports = { system: systemPort, baseline: otherSystemPort };
  for (const side of ['system', 'baseline']) await waitFor(async () => (await fetch(`http://127.0.0.1:${ports[side]}/readyz`)).ok, `the system on ${runtimes[side].version}`);
  const registered = await json('/register', reader);
  if (registered.status !== 201) throw new Error(`registering the reader: ${registered.status} ${JSON.stringify(registered.body)}`);
  const { cursors, nats, postmaster } = await seededCursors();
  const settle = settler(url);
  const pids = {};
  const sides = {};
  for (const side of ['system', 'baseline']) {
    pids[side] = appPids(systems[side].pid);
    const token = await loginReader(ports[side]);
    sides[side] = {
      url: `http://127.0.0.1:${ports[side]}`,
      token,
      settle,
      watch: watching({ gateway: cpu(pids[side].gateway), 'users-service': cpu(pids[side]['users-service']), nats: cpu(nats), postgres: cpu(postmaster, treeCpuSeconds) }),
    };
  }
  const rssNow = () => Object.fromEntries(['system', 'baseline'].map((side) => [side, Object.fromEntries(Object.entries(pids[side]).map(([app, pid]) => [app, rssMb(pid)]))]));
  const rssIdle = rssNow();
  const workloads = [];
  const paced = [];
  for (const mix of settings.mixes) {
    log(`workload ${mix}`);
    // Both sides are the same system: the same requests (cursor pages on both).
    const w = await sideBySide({
      mix,
      n: settings.users,
      seconds: settings.seconds,
      conn: settings.conn,
      rounds: settings.rounds,
      system: sides.system,
      baseline: sides.baseline,
      cursors,
      baselineCursors: cursors,
    });
    log(
      `${mix}: ${runtimes.system.version} ${w.system.rps} req/s p50 ${w.system.p50} p99 ${w.system.p99}; ${runtimes.baseline.version} ${w.baseline.rps} req/s p50 ${w.baseline.p50} p99 ${w.baseline.p99}; ratio ${w.ratio}`,
    );
    workloads.push(w);
    if (!settings.paced.includes(mix)) continue;
    const rate = Math.max(1, Math.round(Math.min(w.system.rps, w.baseline.rps) / 2));
    log(`workload ${mix} at ${rate} req/s`);
    const p = await pacedSideBySide({
      mix,
      n: settings.users,
      seconds: settings.seconds,
      rounds: settings.rounds,
      rate,
      system: sides.system,
      baseline: sides.baseline,
      cursors,
      baselineCursors: cursors,
    });
    log(`${mix} at ${rate} req/s: ${runtimes.system.version} p50 ${p.system.p50} p99 ${p.system.p99}; ${runtimes.baseline.version} p50 ${p.baseline.p50} p99 ${p.baseline.p99}`);
    paced.push(p);
  }
  const errors = [...workloads, ...paced].flatMap((w) =>
    ['system', 'baseline']
      .filter((s) => w[s].non2xx || w[s].errors || w[s].timeouts)
      .map((s) => `${w.mix}${w.rate ? ` at ${w.rate} req/s` : ''} ${runtimes[s].version}: ${w[s].non2xx} non-2xx, ${w[s].errors} errors, ${w[s].timeouts} timeouts`),
  );
  const result = {
    users: settings.users,
    settings: { ...settings, compareNode },
    runtimes,
    machine: { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.cpus().length, memGb: Math.round(os.totalmem() / 2 ** 30), loadBefore, loadAfter: loadNow() },
    finishedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    seed: { systemSeconds: Math.round(systemSeconds), indexes },
    workloads,
    paced,
    rssMb: { idle: rssIdle, after: rssNow() },
    errors,
  };
  const table = runtimesMarkdown(result);
  writeFileSync(`${resultsDir}runtimes.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${resultsDir}runtimes.md`, table);
  if (!argv.includes('--no-readme')) updateReadme(`${root}README.md`, table, 'bench-runtimes');
  console.log(`\n${table}`);
  if (errors.length) {
    console.error(`requests failed during the run (${errors.join('; ')}): those ratios do not count`);
    process.exitCode = 1;
  }
}

async function main() {
  const loadBefore = loadNow();
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
  if (compareNode) return compareRuntimes({ loadBefore, systemSeconds, indexes });

  // The baseline: the kit's seeder (indexes built after loading).
  const t0 = performance.now();
  const seeding = start('baseline-seed', process.execPath, [`${here}baseline.mjs`, '--seed', String(settings.users)], { DATABASE_URL: url });
  await new Promise((resolve, reject) => seeding.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`baseline seed exited ${code}`)))));
  const baselineSeconds = (performance.now() - t0) / 1000;
  log(`baseline seeded in ${baselineSeconds.toFixed(1)} s`);

  const baseline = start('baseline', process.execPath, [`${here}baseline.mjs`], { DATABASE_URL: url, PORT: String(baselinePort) });
  const system = startSystem('system', process.execPath, systemPort);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${systemPort}/readyz`)).ok, 'the system');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${baselinePort}/users?limit=1`)).ok, 'the baseline');

  const registered = await json('/register', reader);
  if (registered.status !== 201) throw new Error(`registering the reader: ${registered.status} ${JSON.stringify(registered.body)}`);
  const token = await loginReader(systemPort);

  const pids = appPids(system.pid);
  const { cursors, nats, postmaster } = await seededCursors();
  const shared = { nats: cpu(nats), postgres: cpu(postmaster, treeCpuSeconds) };
  const watch = (own) => watching({ ...own, ...shared });
  const settle = settler(url);
  const systemSide = { url: `http://127.0.0.1:${systemPort}`, token, settle, watch: watch({ gateway: cpu(pids.gateway), 'users-service': cpu(pids['users-service']) }) };
  const baselineSide = { url: `http://127.0.0.1:${baselinePort}`, settle, watch: watch({ baseline: cpu(baseline.pid) }) };
  // A workload of refused requests measures nothing: check a cursor page answers before measuring.
  const probe = await json(`/users?limit=20&cursor=${cursors[Math.min(1, cursors.length - 1)] ?? ''}`, undefined, token);
  if (probe.status !== 200) throw new Error(`a cursor page answered ${probe.status}: ${JSON.stringify(probe.body)}`);
  const workloads = [];
  const paced = [];
  for (const mix of settings.mixes) {
    log(`workload ${mix}`);
    const w = await sideBySide({
      mix,
      n: settings.users,
      seconds: settings.seconds,
      conn: settings.conn,
      rounds: settings.rounds,
      system: systemSide,
      baseline: baselineSide,
      cursors,
    });
    log(
      `${mix}: system ${w.system.rps} req/s p50 ${w.system.p50} p99 ${w.system.p99}; baseline ${w.baseline.rps} req/s p50 ${w.baseline.p50} p99 ${w.baseline.p99}; ratio ${w.ratio}`,
    );
    workloads.push(w);
    // Latency when not saturated: the mix again at half the rate the system reached, on both sides,
    // right after its own full-rate runs (at 1M users the two databases do not fit in shared_buffers
    // together, and another mix's scans would leave this one's pages cold).
    if (!settings.paced.includes(mix)) continue;
    const rate = Math.max(1, Math.round(w.system.rps / 2));
    // A baseline whose maximum is below the rate would only pile up a queue: said, not measured.
    const baselineKeeps = w.baseline.rps >= rate;
    log(`workload ${mix} at ${rate} req/s`);
    const p = await pacedSideBySide({
      mix,
      n: settings.users,
      seconds: settings.seconds,
      rounds: settings.rounds,
      rate,
      system: systemSide,
      baseline: baselineKeeps ? baselineSide : undefined,
      cursors,
    });
    if (!baselineKeeps) p.baseline = { unable: true, maxRps: w.baseline.rps };
    log(
      `${mix} at ${rate} req/s: system p50 ${p.system.p50} p99 ${p.system.p99}; baseline ${baselineKeeps ? `p50 ${p.baseline.p50} p99 ${p.baseline.p99}` : `cannot keep the rate`}`,
    );
    paced.push(p);
  }

  let writes;
  if (argv.includes('--writes')) {
    log(`logins and registrations at bcrypt cost ${settings.bcryptCost}`);
    writes = await writesWorkload({ url: `http://127.0.0.1:${systemPort}`, token, n: settings.users, cost: settings.bcryptCost, seconds: settings.seconds });
    log(
      `bound ${writes.bound}/s; login ${writes.login.rps}/s (${writes.login.ratio}×); register ${writes.register.rps}/s (${writes.register.ratio}×); read p99 idle ${writes.reads.idle.p99} ms, during logins ${writes.reads.duringLogins.p99} ms`,
    );
  }

  let freshness;
  if (!argv.includes('--no-freshness')) {
    log('search on the indexes as left, then rebuilt');
    freshness = await indexFreshness({ url, schema: 'bench_users', n: settings.users });
    log(`as left ${freshness.asLeft.meanMs} ms, rebuilt ${freshness.rebuilt.meanMs} ms per search (${freshness.ratio}×); REINDEX took ${freshness.reindexSeconds} s`);
  }

  const rss = Object.fromEntries([...Object.entries(pids).map(([app, pid]) => [app, rssMb(pid)]), ['baseline', rssMb(baseline.pid)]]);
  const errors = [...workloads, ...paced].flatMap((w) =>
    // A baseline too slow to answer within the driver's timeout: that is its result, not a failed run.
    ['system', 'baseline']
      .filter((s) => w[s].non2xx || w[s].errors || (s === 'system' && w[s].timeouts))
      .map((s) => `${w.mix}${w.rate ? ` at ${w.rate} req/s` : ''} ${s}: ${w[s].non2xx} non-2xx, ${w[s].errors} errors, ${w[s].timeouts} timeouts`),
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
      loadAfter: loadNow(),
    },
    finishedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    seed: { systemSeconds: Math.round(systemSeconds), baselineSeconds: Math.round(baselineSeconds), indexes },
    workloads,
    paced,
    ...(writes ? { writes } : {}),
    ...(freshness ? { freshness } : {}),
    rssMb: rss,
    errors,
  };
  const table = markdown(result);
  // latest.* is the last run; <N>-users.* the last at that scale (the targets name 100k and 1M).
  for (const name of ['latest', `${settings.users}-users`]) {
    writeFileSync(`${resultsDir}${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${resultsDir}${name}.md`, table);
  }
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
