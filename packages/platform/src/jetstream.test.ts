import { nanos } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { testInfra, uniqueId } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStream, jetStreamOf, type JetStreamManager, type StreamSpec } from './jetstream.js';

let nc: NatsConnection;
let jsm: JetStreamManager;
const spec: StreamSpec = { name: uniqueId('PLATFORM_TEST'), subjects: [`${uniqueId('platform_test')}.evt.>`], maxAgeMs: 60_000, duplicateWindowMs: 5_000 };

beforeAll(async () => {
  nc = await connect({ servers: testInfra().natsUrl, name: 'platform-jetstream-test' });
  ({ jsm } = await jetStreamOf(nc));
});
afterAll(async () => {
  await jsm?.streams.delete(spec.name).catch(() => undefined);
  await nc?.close();
});

describe('ensureStream', () => {
  it('creates the stream the spec describes, and leaves it be when it exists', async () => {
    expect(await ensureStream(jsm, spec, 1)).toBe(spec.name);
    const { config } = await jsm.streams.info(spec.name);
    expect(config).toMatchObject({ subjects: spec.subjects, max_age: nanos(60_000), duplicate_window: nanos(5_000), num_replicas: 1 });
    // Concurrent replicas starting at once: every call answers the name, none fails.
    expect(await Promise.all([ensureStream(jsm, spec, 1), ensureStream(jsm, spec, 1)])).toEqual([spec.name, spec.name]);
  });
});
