// Open-loop load at a fixed rate: request k is due at k / rate seconds and is sent then, whether or
// not earlier ones have answered, and its latency counts from when it was due (so a server that falls
// behind shows it, instead of the driver waiting politely: no coordinated omission). autocannon's
// overallRate sends each connection's quota for a second in a burst at the start of that second, so
// at a "fixed rate" it measures its own bursts; this is for latency at a given rate. Each run waits
// for the machine to settle (`settle`), then sends for warmupSeconds without counting, then measures.
import http from 'node:http';
import { cpuMeter } from './processes.mjs';

/** The default `settle`: a second's pause (run.mjs waits for the database instead, settle.mjs). */
export const pause = () => new Promise((resolve) => setTimeout(resolve, 1000));

/** The q-quantile of ascending `sorted` (NaN for none). */
export const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
const round1 = (v) => Math.round(v * 10) / 10;

/**
 * `rate` requests per second for `seconds` to `url` (paths from `next()`), `token` as bearer.
 * `watch`: `{ name: () => cpuSeconds }`, reported as CPU ms per request. A request unanswered after
 * `timeoutMs` counts in `timeouts` (a server that cannot keep up with the rate), other failures in `errors`.
 */
export async function paced({ url, token, next, rate, seconds, watch = {}, timeoutMs = 10_000, warmupSeconds = 2, settle = pause }) {
  // What the previous run left running (a saturated baseline's queries outlive its driver) finishes first.
  await settle();
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const total = Math.max(1, Math.round(rate * (warmupSeconds + seconds)));
  // Requests due in the first warmupSeconds warm connections and caches up: sent, not counted.
  const warm = Math.round(rate * warmupSeconds);
  const interval = 1000 / rate;
  const latencies = [];
  let [non2xx, errors, timeouts, sent, done] = [0, 0, 0, 0, 0];
  const cpu = cpuMeter(watch);
  const started = performance.now();
  await new Promise((resolve) => {
    const finished = () => {
      if (++done === total) resolve();
    };
    const send = (due, counted) => {
      const req = http.request({ agent, hostname, port, path: next(), headers }, (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          if (counted) latencies.push(performance.now() - due);
          if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
          finished();
        });
      });
      // From the moment it is sent, waiting for a socket included (the agent queues beyond maxSockets).
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, timeoutMs);
      req.on('error', () => {
        clearTimeout(timer);
        if (timedOut) timeouts++;
        else errors++;
        finished();
      });
      req.end();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + sent * interval <= now) send(started + sent * interval, sent++ >= warm);
      if (sent < total) setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000 - warmupSeconds;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate,
    rps: Math.round((latencies.length / elapsed) * 10) / 10,
    p50: round1(quantile(latencies, 0.5)),
    p99: round1(quantile(latencies, 0.99)),
    max: round1(latencies.at(-1) ?? NaN),
    non2xx,
    errors,
    timeouts,
    requests: latencies.length,
    cpuMsPerRequest: cpu.perRequest(total),
  };
}
