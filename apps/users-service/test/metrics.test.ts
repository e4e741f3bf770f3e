import type { AddressInfo } from 'node:net';
import { RegisterUser, Rpcs, streamName, Streams } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetStreamOf, RpcClient } from '@um/platform';
import { dropSchemas, eventually, metricValue, scrape, testInfra, uniqueId } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from '../src/application/register-user.js';
import { loadConfig } from '../src/config.js';
import { startUsersService } from '../src/service.js';
import { meta, newUser, silentLog } from './setup.js';

let service: Awaited<ReturnType<typeof startUsersService>>;
let nc: NatsConnection;
let url: string;
const namespace = uniqueId('metrics');
const schema = uniqueId('t_users_metrics');

beforeAll(async () => {
  const { databaseUrl, natsUrl } = testInfra();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    NATS_NAMESPACE: namespace,
    USERS_DB_SCHEMA: schema,
    // Slow enough (tens of ms a hash) for a burst to queue behind the cores.
    BCRYPT_COST: '10',
    REGISTRATION_RATE_LIMIT: '1',
    RELAY_POLL_MS: '100',
    METRICS_PORT: '0',
  });
  service = await startUsersService(config, silentLog);
  url = `http://127.0.0.1:${(service.metricsServer!.address() as AddressInfo).port}/metrics`;
  nc = await connect({ servers: natsUrl });
});
afterAll(async () => {
  await service?.stop();
  if (nc) {
    const { jsm } = await jetStreamOf(nc);
    await jsm.streams.delete(streamName(namespace, Streams.usersEvents)).catch(() => undefined);
    await nc.close();
  }
  await dropSchemas(testInfra().databaseUrl, schema);
});

describe("users-service's metrics port", () => {
  it('shows the relay lag: events waiting and the age of the oldest, back to 0 once published', async () => {
    await eventually(async () => metricValue(await scrape(url), 'um_relay_unpublished_events') === 0);
    await service.relay.stop();
    await registerUser(service.deps, RegisterUser.parse(newUser()), meta);
    await registerUser(service.deps, RegisterUser.parse(newUser()), meta);
    await new Promise((r) => setTimeout(r, 200));
    const waiting = await scrape(url);
    expect(metricValue(waiting, 'um_relay_unpublished_events', { service: 'users-service' })).toBe(2);
    expect(metricValue(waiting, 'um_relay_oldest_unpublished_age_seconds')).toBeGreaterThanOrEqual(0.2);

    service.relay.start();
    const caughtUp = await eventually(async () => {
      const text = await scrape(url);
      return metricValue(text, 'um_relay_unpublished_events') === 0 && text;
    });
    expect(metricValue(caughtUp, 'um_relay_oldest_unpublished_age_seconds')).toBe(0);
  });

  it('shows the bcrypt queue of a burst, and an empty queue after it', async () => {
    expect(metricValue(await scrape(url), 'um_bcrypt_queue_length')).toBe(0);
    const burst = Array.from({ length: 16 }, (_, i) => service.deps.hasher.hash(`burst password ${i}`));
    const during = metricValue(await scrape(url), 'um_bcrypt_queue_length');
    await Promise.all(burst);
    expect(during).toBeGreaterThan(0);
    expect(metricValue(await scrape(url), 'um_bcrypt_queue_length')).toBe(0);
  });

  it('times every RPC by name and outcome and counts refusals by the rate limit, with no personal data anywhere', async () => {
    const rpc = new RpcClient(nc, namespace, 10_000);
    const [first, second] = [newUser(), newUser()];
    const ip = '198.51.100.201';
    const before = await scrape(url);
    const user = await rpc.call(Rpcs.users.register, { ...first, client_ip: ip }, { requestId: 'metrics-1' });
    await expect(rpc.call(Rpcs.users.register, { ...second, client_ip: ip }, { requestId: 'metrics-2' })).rejects.toMatchObject({ code: 'resource_exhausted' });
    await rpc.call(Rpcs.users.get, { user_id: user.id }, { requestId: 'metrics-3' });
    const after = await scrape(url);

    const moved = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(moved('um_rpc_server_duration_seconds_count', { rpc: 'users.register', outcome: 'ok' })).toBe(1);
    expect(moved('um_rpc_server_duration_seconds_count', { rpc: 'users.register', outcome: 'resource_exhausted' })).toBe(1);
    expect(moved('um_rpc_server_duration_seconds_count', { rpc: 'users.get', outcome: 'ok' })).toBe(1);
    expect(moved('um_throttle_refusals_total', { rpc: 'users.register', reason: 'users.registration_rate_limited' })).toBe(1);

    for (const personal of [first.email, first.username, first.fio, second.email, second.username, ip, namespace]) expect(after).not.toContain(personal);
    // The id is a small integer, found among the numbers: no label of ours may hold it (a bucket's `le` is no id).
    const ours = after
      .split('\n')
      .filter((line) => line.startsWith('um_'))
      .join('\n');
    expect(ours).not.toMatch(new RegExp(`[{,](?!le=)[a-z_]+="${user.id}"`));
  });
});
