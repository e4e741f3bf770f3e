// Writes at the configured bcrypt cost, against their bound: how many bcrypt operations this machine
// does per second with as many in flight as users-service allows (one per core), measured in this
// process right before; registrations and logins through the gateway, as a ratio of it. Then reads
// at a fixed rate, alone and during a login burst (their p99 should stay within 2× of idle).
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import bcrypt from 'bcrypt';
import { person } from './data.mjs';
import { pathsFor } from './load.mjs';
import { paced } from './paced.mjs';
import { SEED_PASSWORD } from './seed-system.mjs';

/** bcrypt operations per second at `cost`, `availableParallelism()` at a time, for about `seconds`. */
export async function bcryptBound(cost, seconds) {
  const hash = await bcrypt.hash(SEED_PASSWORD, cost);
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: availableParallelism() }, async () => {
      while (performance.now() < until) {
        await bcrypt.compare(SEED_PASSWORD, hash);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const post = (path, body) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function burst(url, seconds, conn, request) {
  // A cost-12 hash takes a quarter of a second on an idle core: patience, not autocannon's 10 s timeout.
  const res = await autocannon({ url, connections: conn, duration: seconds, timeout: 60, requests: [{ setupRequest: request }] });
  return { rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx, errors: res.errors - res.timeouts, timeouts: res.timeouts };
}

/**
 * `{ bound, login, register, reads: { idle, duringLogins } }`, each with req/s and latency. Writes run
 * at least 30 s with 4 connections each (twice the cores: enough to keep every bcrypt slot busy).
 */
export async function writesWorkload({ url, token, n, cost, seconds: given }) {
  const [seconds, conn] = [Math.max(30, given), 4];
  const bound = await bcryptBound(cost, seconds);
  let k = 0;
  const login = await burst(url, seconds, conn, (req) => {
    const p = person((k++ * 7919) % n);
    return { ...req, ...post('/login', { username: p.username, password: SEED_PASSWORD }) };
  });
  let r = 0;
  const stamp = Date.now().toString(36);
  const register = await burst(url, seconds, conn, (req) => {
    const i = r++;
    return {
      ...req,
      ...post('/register', {
        username: `bench_w_${stamp}_${i}`,
        email: `bench_w_${stamp}_${i}@example.com`,
        password: 'bench writer password',
        fio: 'Bench Writer',
        birthday: '1990-01-01',
      }),
    };
  });
  const reads = async () => {
    const { rps, p50, p99, non2xx } = await paced({ url, token, next: pathsFor('selective', n), rate: 40, seconds });
    return { rps, p50, p99, non2xx };
  };
  const idle = await reads();
  let j = 0;
  const [duringLogins] = await Promise.all([
    reads(),
    burst(url, seconds, conn, (req) => {
      const p = person((j++ * 104729) % n);
      return { ...req, ...post('/login', { username: p.username, password: SEED_PASSWORD }) };
    }),
  ]);
  return {
    cost,
    bound: Math.round(bound * 10) / 10,
    login: { ...login, ratio: Math.round((login.rps / bound) * 100) / 100 },
    register: { ...register, ratio: Math.round((register.rps / bound) * 100) / 100 },
    reads: { idle, duringLogins, p99Ratio: Math.round((duringLogins.p99 / idle.p99) * 100) / 100 },
  };
}
