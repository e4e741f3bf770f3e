import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rpcs, type User } from '@um/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { metricValue, scrape, testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, startMetricsServer, type Registry } from './metrics.js';
import { RpcClient, serveRpc } from './nats.js';

const NATS_URL = testInfra().natsUrl;

const silent = createLogger('platform-metrics-test', 'silent');
const EMAIL = 'metrics.person@example.com';

let nc: NatsConnection;
let registry: Registry;
let server: Server;
let url: string;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL, name: 'platform-metrics-test' });
  registry = createMetricsRegistry('metrics-test');
  server = (await startMetricsServer(0, registry))!;
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
});

afterAll(async () => {
  server?.close();
  await nc?.close();
});

const user = (id: number): User => ({
  id,
  username: 'metrics_person',
  email: EMAIL,
  config: { fio: 'Metrics Person', birthday: '1990-01-02', tags: [] },
  role: 'user',
  email_verified: false,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
});

describe('metrics port', () => {
  it('serves the Prometheus text format at /metrics, with Node defaults labelled by service, and nothing else', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(metricValue(text, 'process_resident_memory_bytes', { service: 'metrics-test' })).toBeGreaterThan(0);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });

  it('is off unless a port is given', async () => {
    expect(await startMetricsServer(undefined, registry)).toBeUndefined();
  });
});

describe('RPC durations and throttle refusals', () => {
  it('count each call on both sides by RPC name and outcome, and refusals by reason, with no personal data in any label', async () => {
    const namespace = `t${randomBytes(6).toString('hex')}`;
    let refuse = false;
    const sub = serveRpc(nc, { namespace, service: 'users', log: silent, metrics: registry }, Rpcs.users.get, async (req) => {
      if (refuse) throw new AppError('resource_exhausted', 'users.registration_rate_limited', `Too many requests for ${EMAIL}`, undefined, { retryAfterSeconds: 1 });
      return user(req.user_id);
    });
    await nc.flush();
    const client = new RpcClient(nc, namespace, 2_000, undefined, undefined, registry);
    // A distinctive id: its decimal form cannot appear in a scrape by chance.
    const id = 9_007_199_254_740_123;
    const count = (text: string, side: string, outcome: string) => metricValue(text, `um_rpc_${side}_duration_seconds_count`, { rpc: 'users.get', outcome });

    const before = await scrape(url);
    await client.call(Rpcs.users.get, { user_id: id }, { requestId: 'r1', actorId: String(id) });
    const afterOk = await scrape(url);
    expect(count(afterOk, 'server', 'ok') - count(before, 'server', 'ok')).toBe(1);
    expect(count(afterOk, 'client', 'ok') - count(before, 'client', 'ok')).toBe(1);
    expect(metricValue(afterOk, 'um_rpc_server_duration_seconds_sum', { rpc: 'users.get' })).toBeGreaterThan(0);

    refuse = true;
    await expect(client.call(Rpcs.users.get, { user_id: id }, { requestId: 'r2' })).rejects.toMatchObject({ code: 'resource_exhausted' });
    const afterRefusal = await scrape(url);
    expect(
      metricValue(afterRefusal, 'um_throttle_refusals_total', { rpc: 'users.get', reason: 'users.registration_rate_limited' }) - metricValue(afterOk, 'um_throttle_refusals_total'),
    ).toBe(1);
    expect(count(afterRefusal, 'server', 'resource_exhausted')).toBe(1);
    expect(count(afterRefusal, 'client', 'resource_exhausted')).toBe(1);

    for (const personal of [String(id), EMAIL, 'metrics_person', 'Metrics Person', namespace]) expect(afterRefusal).not.toContain(personal);
    sub.unsubscribe();
  });
});
