#!/usr/bin/env node
// Gateway benchmark on real processes (gateway, users-service, auth-service): throughput and latency
// of an authenticated read, alone and during a burst of logins at the real bcrypt cost. Prints
// numbers; asserts nothing. Needs DATABASE_URL and NATS_URL, and a built tree (npm run build).
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test NATS_URL=nats://127.0.0.1:4222 npm run bench -w @um/e2e
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import pg from 'pg';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ns = `bench_${randomBytes(4).toString('hex')}`;
const cost = process.env.BCRYPT_COST ?? '12';
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  NATS_NAMESPACE: ns,
  USERS_DB_SCHEMA: `${ns}_users`,
  AUTH_DB_SCHEMA: `${ns}_auth`,
  BCRYPT_COST: cost,
  LOG_LEVEL: 'warn',
  PORT: '0',
  HOST: '127.0.0.1',
  REGISTRATION_RATE_LIMIT: '100000',
  LOGIN_THROTTLE_FREE_ATTEMPTS: '100000',
};

function start(app, ready) {
  const child = spawn(process.execPath, [`${root}apps/${app}/dist/main.js`], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = ready.exec(line);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`${app} exited ${code}`)));
  });
}

const run = (opts) => new Promise((resolve, reject) => autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))));
const line = (name, r) =>
  console.log(
    `${name.padEnd(34)} ${String(Math.round(r.requests.average)).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(5)} ms   errors ${r.errors + r.non2xx}`,
  );

const procs = [];
try {
  procs.push(await start('users-service', /users-service ready/));
  procs.push(await start('auth-service', /auth-service ready/));
  const gateway = await start('gateway', /gateway listening on (http:\/\/\S+?)"/);
  procs.push(gateway);
  const url = gateway.url;
  const user = { username: `bench_${ns}`, email: `${ns}@example.com`, password: 'bench password', fio: 'Bench', birthday: '1990-01-01', tags: ['bench'] };
  await fetch(`${url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  const login = await (
    await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password: user.password }) })
  ).json();
  const auth = { authorization: `Bearer ${login.access_token}` };

  console.log(`\n${seconds} s per run, BCRYPT_COST=${cost}, one replica of each service, ${availableParallelism()} cores\n`);
  line('GET /healthz (no NATS)', await run({ url: `${url}/healthz`, connections: 20, duration: seconds }));
  line('GET /users/me (verify + NATS + PG)', await run({ url: `${url}/users/me`, headers: auth, connections: 20, duration: seconds }));
  const loginBody = JSON.stringify({ username: user.username, password: user.password });
  const [reads, logins] = await Promise.all([
    run({ url: `${url}/users/me`, headers: auth, connections: 20, duration: seconds }),
    run({ url: `${url}/login`, method: 'POST', headers: { 'content-type': 'application/json' }, body: loginBody, connections: 50, duration: seconds }),
  ]);
  line('GET /users/me during login burst', reads);
  line('POST /login (50 concurrent)', logins);
} finally {
  for (const p of procs) p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  for (const s of [env.USERS_DB_SCHEMA, env.AUTH_DB_SCHEMA]) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
  const nc = await connect({ servers: env.NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (const name of [`${ns}_UM_USERS_EVENTS`, `KV_${ns}_um_revocations`]) await jsm.streams.delete(name).catch(() => undefined);
  await nc.close();
}
