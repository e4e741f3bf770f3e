import { Buckets, bucketName, streamName, Streams } from '@um/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually, testInfra } from '@um/testkit';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { NatsCluster } from './nats-cluster.js';
import { SmtpSink } from './smtp.js';

let cluster: NatsCluster;
let smtp: SmtpSink;
let sys: System;

beforeAll(async () => {
  cluster = await NatsCluster.start(3);
  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({
    mail: 1,
    env: {
      NATS_URL: cluster.url,
      JETSTREAM_REPLICAS: '3',
      SMTP_URL: smtpUrl,
      RPC_TIMEOUT_MS: '5000',
      RELAY_POLL_MS: '200',
      MAIL_RETRY_BASE_MS: '100',
      MAIL_RETRY_MAX_MS: '1000',
    },
  }).catch(async (e: unknown) => {
    await cluster.stop();
    throw e;
  });
}, 120_000);

afterAll(async () => {
  // Stop the apps while NATS is still up, so System.stop can remove this test's stream and bucket.
  await sys?.stop();
  await smtp?.stop();
  await cluster?.stop();
});

interface Session {
  username: string;
  password: string;
  token: string;
}

it('loses no event, sends one email each and keeps refusing logged-out tokens when a NATS node dies under load', { timeout: 180_000 }, async () => {
  const stream = streamName(sys.namespace, Streams.usersEvents);
  const kvStream = `KV_${bucketName(sys.namespace, Buckets.revocations)}`;
  const nc = await connect({ servers: cluster.url });
  const jsm = await jetstreamManager(nc);
  // Both live on every node: one copy per node, so any one node can go.
  for (const name of [stream, kvStream]) {
    const info = await eventually(() => jsm.streams.info(name), 15_000);
    expect(info.config.num_replicas, name).toBe(3);
    expect(info.cluster?.replicas, name).toHaveLength(2);
  }

  // The node to lose leads both the event stream and the revocation bucket: both must fail over.
  const leaderOf = async (name: string) => (await jsm.streams.info(name)).cluster?.leader;
  for (let i = 0; i < 20 && (await leaderOf(kvStream)) !== (await leaderOf(stream)); i++) {
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${kvStream}`, undefined, { timeout: 5_000 });
    await eventually(async () => (await leaderOf(kvStream)) !== undefined, 10_000);
  }
  const doomed = await leaderOf(stream);
  expect(await leaderOf(kvStream)).toBe(doomed);

  const statuses: number[] = [];
  const loggedOut: Session[] = [];
  let cycles = 0;
  let running = true;
  /** Register, log in, log out, again and again; a step refused during the failover skips to the next user. */
  const worker = async () => {
    while (running) {
      const input = newUser();
      const step = async (method: string, path: string, opts: Parameters<typeof http>[3], want: number) => {
        const res = await http(sys.url, method, path, opts).catch(() => ({ status: 0, body: undefined }));
        statuses.push(res.status);
        return res.status === want ? res : undefined;
      };
      const reg = await step('POST', '/register', { body: input }, 201);
      const login = reg && (await step('POST', '/login', { body: { username: input.username, password: input.password } }, 200));
      const token = (login?.body as { access_token?: string } | undefined)?.access_token;
      if (token && (await step('POST', '/logout', { token }, 204))) {
        loggedOut.push({ username: input.username, password: input.password, token });
        cycles++;
      } else await new Promise((r) => setTimeout(r, 100));
    }
  };
  const load = Promise.all([worker(), worker(), worker()]);

  try {
    await eventually(async () => cycles >= 6, 30_000);
    expect(doomed).toMatch(/^n[123]$/);
    await cluster.kill(doomed!);
    const atKill = cycles;
    await eventually(async () => cycles >= atKill + 15, 60_000);
  } finally {
    running = false;
    await load;
  }

  // What failed during the failover failed cleanly (503/504), never hung or answered 500.
  expect(
    statuses.every((s) => [200, 201, 204, 503, 504].includes(s)),
    statuses.join(','),
  ).toBe(true);

  // Revocations still enforced: every logged-out token is refused by the running gateway (its
  // revocation watch lost its consumer with the node: it notices within two checks, 2 s apart, and
  // watches again) and by one started after the node died (it loads them from the surviving copies).
  const late = await sys.spawn('gateway', {}, 'gateway-late');
  await late.ready();
  for (const url of [sys.url, late.url]) {
    const accepted = async () => {
      const statuses = await Promise.all(loggedOut.map(async (s) => (await http(url, 'GET', '/users/me', { token: s.token })).status));
      return statuses.filter((s) => s !== 401).length;
    };
    await eventually(async () => (await accepted()) === 0, 10_000).catch(async () => expect(await accepted(), `${url} accepts logged-out tokens`).toBe(0));
  }
  // …while a live session still works there (the 401s above are revocations, not a broken gateway).
  const { username, password } = loggedOut[0]!;
  const relogin = await http(late.url, 'POST', '/login', { body: { username, password } });
  expect(relogin.status).toBe(200);
  expect((await http(late.url, 'GET', '/users/me', { token: (relogin.body as { access_token: string }).access_token })).status).toBe(200);

  // Exactly one confirmation email for every account that exists (including any whose 201 was lost in the failover).
  const users = await pgRows<{ email: string }>(`SELECT email FROM "${sys.env.USERS_DB_SCHEMA}".users`);
  expect(users.length).toBeGreaterThanOrEqual(loggedOut.length);
  await eventually(async () => users.every((u) => smtp.to(u.email).length >= 1), 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  for (const u of users) expect(smtp.to(u.email), u.email).toHaveLength(1);

  // 0 events lost: the stream holds exactly the events of the event table, each once.
  const rows = await pgRows<{ event_id: string }>(`SELECT event_id FROM "${sys.env.USERS_DB_SCHEMA}".events`);
  await eventually(async () => (await jsm.streams.info(stream)).state.messages === rows.length, 15_000);
  const info = await jsm.streams.info(stream);
  const published: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) published.push(m.json<{ event_id: string }>().event_id);
  }
  await nc.close();
  expect(published.sort()).toEqual(rows.map((r) => r.event_id).sort());
});

async function pgRows<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: testInfra().databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}
