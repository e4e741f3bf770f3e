import { metricValue, scrape, seriesOf } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requester, signToken, startGateway, userReply, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startGateway();
});
afterAll(async () => {
  await h?.close();
});

const { send, postJson } = requester(() => h);
const DURATION = 'um_http_request_duration_seconds_count';

describe('GET /metrics', () => {
  it('counts requests by method, route pattern and status, and never holds the ids, names or addresses they carried', async () => {
    // A distinctive id: its decimal form cannot appear in a scrape by chance.
    const id = 9_007_199_254_740_321;
    const email = 'private.person@example.com';
    const token = await signToken(h.key, { sub: String(id) });
    h.rpc.reply = () => userReply(id, { email, username: 'private_person' });
    const before = await scrape(`${h.url}/metrics`);

    expect((await send(`/users/${id}`, { token })).status).toBe(200);
    expect((await send(`/users/${id}`, { token })).status).toBe(200);
    expect((await postJson('/register', { username: 'private_person', email, password: 'x' })).status).toBe(422);
    expect((await send(`/nowhere/${email}?token=${token}`)).status).toBe(404);
    expect((await send('/healthz', { method: 'POST', token })).status).toBe(405);

    const after = await scrape(`${h.url}/metrics`);
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
    const a = await send('/metrics');
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metricValue(a.text, 'process_cpu_seconds_total', { service: 'gateway' })).toBeGreaterThan(0);
  });
});
