import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createMetricsRegistry, startMetricsServer } from '@um/platform';
import { metricValue, scrape, seriesOf } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requester, signToken, startGateway, userReply, type Harness } from './support.js';

let h: Harness;
let metricsServer: Server;
/** `/metrics` as main.ts serves it: on METRICS_PORT, apart from the API. */
let metricsUrl: string;
beforeAll(async () => {
  const metrics = createMetricsRegistry('gateway');
  h = await startGateway(createLogger('gateway', 'silent'), { metrics });
  metricsServer = (await startMetricsServer(0, metrics))!;
  metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`;
});
afterAll(async () => {
  metricsServer?.close();
  await h?.close();
});

const { send, postJson } = requester(() => h);
const DURATION = 'um_http_request_duration_seconds_count';

describe('metrics of the gateway', () => {
  it('counts requests by method, route pattern and status, and never holds the ids, names or addresses they carried', async () => {
    // A distinctive id: its decimal form cannot appear in a scrape by chance.
    const id = 9_007_199_254_740_321;
    const email = 'private.person@example.com';
    const token = await signToken(h.key, { sub: String(id) });
    h.rpc.reply = () => userReply(id, { email, username: 'private_person' });
    const before = await scrape(metricsUrl);

    expect((await send(`/users/${id}`, { token })).status).toBe(200);
    expect((await send(`/users/${id}`, { token })).status).toBe(200);
    expect((await postJson('/register', { username: 'private_person', email, password: 'x' })).status).toBe(422);
    expect((await send(`/nowhere/${email}?token=${token}`)).status).toBe(404);
    expect((await send('/healthz', { method: 'POST', token })).status).toBe(405);

    const after = await scrape(metricsUrl);
    const moved = (labels: Record<string, string>) => metricValue(after, DURATION, labels) - metricValue(before, DURATION, labels);
    expect(moved({ method: 'GET', route: '/users/:user_id', status: '200' })).toBe(2);
    expect(moved({ method: 'POST', route: '/register', status: '422' })).toBe(1);
    expect(moved({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(moved({ method: 'POST', route: '/healthz', status: '405' })).toBe(1);
    expect(metricValue(after, 'um_http_request_duration_seconds_sum', { route: '/users/:user_id' })).toBeGreaterThan(0);

    for (const personal of [String(id), email, 'private_person', token, '/nowhere']) expect(after).not.toContain(personal);
    // Every route label is a pattern the app declares (or `unmatched`), whatever paths were asked for.
    const routes = new Set(seriesOf(after, DURATION).map((s) => s.labels.route));
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[a-z_./:-]*)$/);
  });

  it('answers in the Prometheus text format, with Node process metrics of the gateway', async () => {
    const a = await fetch(metricsUrl);
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metricValue(await a.text(), 'process_cpu_seconds_total', { service: 'gateway' })).toBeGreaterThan(0);
  });

  it('are not served on the public API port: GET /metrics there is 404, for anyone', async () => {
    const admin = await signToken(h.key, { role: 'admin' });
    for (const token of [undefined, admin]) {
      const a = await send('/metrics', token ? { token } : {});
      expect(a.status).toBe(404);
      expect(a.text).not.toContain('um_http_request_duration_seconds');
      expect(a.text).not.toContain('process_cpu_seconds_total');
    }
  });
});
