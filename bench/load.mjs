// Side-by-side load (the shared kit's bench.mjs as a module): one workload against the system and the
// baseline, alternated (A B A B …) so machine noise hits both; per run req/s, latency, and the CPU
// time each watched process spent per request.
import autocannon from 'autocannon';
import { person } from './data.mjs';
import { paced, pause } from './paced.mjs';
import { cpuMeter } from './processes.mjs';

/**
 * The kit's workloads. `selective`: lookups matching a handful of rows; `broad`: one tag pair (~10%
 * of users); `list`: `GET /users` pages by offset. And `pages`: the same pages as `list`, the system
 * reaching each by its cursor (`cursors[i]`: the page starting at user i), the baseline by offset.
 */
export function pathsFor(mix, n, cursors) {
  let k = 0;
  return () => {
    const i = (k++ * 7919) % n;
    const p = person(i);
    const kind = k % 4;
    if (mix === 'broad') return `/users/search?tags=${p.tags.join(',')}&limit=20`;
    if (mix === 'list' || (mix === 'pages' && !cursors)) return `/users?limit=20&offset=${i}`;
    if (mix === 'pages') return i === 0 ? '/users?limit=20' : `/users?limit=20&cursor=${cursors[i]}`;
    if (kind === 0) return `/users/search?username=${encodeURIComponent(p.username.split('.')[1])}&limit=20`;
    if (kind === 1) return `/users/search?email=${encodeURIComponent(p.email)}&limit=20`;
    if (kind === 2) return `/users/search?fio=${encodeURIComponent(p.fio.split(' ').slice(-1)[0])}&limit=20`;
    return `/users/search?birthday=${p.birthday}&tags=${p.tags[0]}&limit=20`;
  };
}

async function once({ url, token, next, seconds, conn, watch, settle = pause }) {
  // What the previous run left running (a saturated baseline's queries outlive their requests) finishes first.
  await settle();
  const cpu = cpuMeter(watch);
  const res = await autocannon({
    url,
    connections: conn,
    duration: seconds,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: next() }) }],
  });
  return {
    rps: res.requests.average,
    p50: res.latency.p50,
    p99: res.latency.p99,
    non2xx: res.non2xx,
    // autocannon's `errors` include its `timeouts`: a server too slow to answer in 10 s (at 1M users,
    // the baseline's offset pages) is that, not a failed run, and is reported as such.
    errors: res.errors - res.timeouts,
    timeouts: res.timeouts,
    requests: res.requests.total,
    cpuMsPerRequest: cpu.perRequest(res.requests.total || 1),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summarise(runs) {
  const cpu = {};
  for (const name of Object.keys(runs[0].cpuMsPerRequest)) cpu[name] = Math.round(median(runs.map((r) => r.cpuMsPerRequest[name])) * 1000) / 1000;
  return {
    rps: Math.round(median(runs.map((r) => r.rps))),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
    cpuMsPerRequest: cpu,
    runs,
  };
}

/** `run(side, target)` for system then baseline (a side without a target is skipped), `rounds` times: the runs by side. */
async function alternated(rounds, system, baseline, run) {
  const runs = { system: [], baseline: [] };
  for (let r = 0; r < rounds; r++)
    for (const [side, target] of [
      ['system', system],
      ['baseline', baseline],
    ])
      if (target) runs[side].push(await run(side, target));
  return runs;
}

/**
 * One workload on both sides, `rounds` times each, alternated. `system`/`baseline`: `{ url, token?, settle?, watch: { name: () => cpuSeconds } }`.
 * Same request sequence on both sides (`pages` by cursor on the system, by offset on the baseline unless it has `baselineCursors` too).
 */
export async function sideBySide({ mix, n, seconds, conn, rounds, system, baseline, cursors, baselineCursors }) {
  const runs = await alternated(rounds, system, baseline, (side, target) =>
    once({ ...target, next: pathsFor(mix, n, side === 'system' ? cursors : baselineCursors), seconds, conn }),
  );
  const [s, b] = [summarise(runs.system), summarise(runs.baseline)];
  return { mix, system: s, baseline: b, ratio: Math.round((s.rps / b.rps) * 100) / 100 };
}

/**
 * The same at a fixed `rate` on both sides (paced.mjs: open loop, latency from when each request was
 * due): what a request costs when the server is not saturated. Without `baseline`, the system alone.
 */
export async function pacedSideBySide({ mix, n, seconds, rounds, rate, system, baseline, cursors, baselineCursors }) {
  const runs = await alternated(rounds, system, baseline, (side, target) =>
    paced({ ...target, next: pathsFor(mix, n, side === 'system' ? cursors : baselineCursors), seconds, rate }),
  );
  const s = summarise(runs.system);
  const b = baseline ? summarise(runs.baseline) : undefined;
  return { mix, rate, system: s, baseline: b, ...(b ? { p50Difference: Math.round((s.p50 - b.p50) * 10) / 10 } : {}) };
}
