import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PublishedUserEvent, streamName, Streams } from '@um/contracts';
import { eventually } from '@um/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from './admin-cli.js';
import { http, newUser, System } from './harness.js';

let sys: System;
let db: pg.Client;
let nc: NatsConnection;
let jsm: JetStreamManager;
const people: Array<ReturnType<typeof newUser>> = [];

beforeAll(async () => {
  sys = await System.start();
  db = new pg.Client({ connectionString: sys.env.DATABASE_URL });
  await db.connect();
  nc = await connect({ servers: sys.env.NATS_URL! });
  jsm = await jetstreamManager(nc);
  // Some history: registrations, profile changes, a self-deletion (its personal data erased).
  for (let i = 0; i < 6; i++) {
    const input = newUser({ tags: [`t${i}`] });
    people.push(input);
    expect((await http(sys.url, 'POST', '/register', { body: input })).status).toBe(201);
    const token = (await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } })).body.access_token as string;
    if (i % 2) expect((await http(sys.url, 'PATCH', '/users/me', { token, body: { fio: `Renamed ${i}`, tags: 'x,y' } })).status).toBe(200);
    if (i === 5) expect((await http(sys.url, 'DELETE', '/users/me', { token })).status).toBe(204);
  }
});
afterAll(async () => {
  await nc?.close();
  await db?.end();
  await sys?.stop();
});

const schema = () => sys.env.USERS_DB_SCHEMA!;
const usersTable = async () => (await db.query(`SELECT * FROM "${schema()}".users ORDER BY id`)).rows;
const eventIds = async () => (await db.query<{ event_id: string }>(`SELECT event_id FROM "${schema()}".events ORDER BY global_position`)).rows.map((r) => r.event_id);

describe('admin rebuild-projection', () => {
  it('replays the events into a users table equal to the live one, showing progress', async () => {
    const live = await usersTable();
    expect(live.length).toBeGreaterThanOrEqual(5);
    await db.query(`UPDATE "${schema()}".users SET config = '{}'::jsonb, role = 'admin'`);
    await db.query(`DELETE FROM "${schema()}".users WHERE id = $1`, [live[0].id]);

    const run = await runAdmin(['rebuild-projection'], sys.env);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ events: (await eventIds()).length, users: live.length, grandfathered: 0 });
    expect(await usersTable()).toEqual(live);
    // the deleted user's erased events brought nothing back
    const deleted = people[5]!;
    expect(JSON.stringify(await usersTable())).not.toContain(deleted.email);
    // progress with ETA on stderr (a line per second off a terminal, and the final count)
    expect(run.stderr).toMatch(new RegExp(`rebuild-projection \\[.*\\] 100% \\| ${result.events}/${result.events} events \\| \\d+ events/s \\| ETA 0s`));
  });
});

describe('admin replay', () => {
  it('republishes every stored event, as the relay publishes them, to a stream emptied of them', async () => {
    const ids = await eventIds();
    const stream = streamName(sys.namespace, Streams.usersEvents);
    await eventually(async () => (await jsm.streams.info(stream)).state.messages === ids.length, 10_000);
    await jsm.streams.delete(stream);

    const run = await runAdmin(['replay'], sys.env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ events: ids.length });
    expect(run.stderr).toMatch(new RegExp(`replay \\[.*\\] 100% \\| ${ids.length}/${ids.length} events .*ETA 0s`));

    expect((await jsm.streams.info(stream)).state.messages).toBe(ids.length);
    const consumer = await jsm.consumers.add(stream, { name: 'replay_check' });
    const messages = await jetstream(nc)
      .consumers.get(stream, consumer.name)
      .then((c) => c.fetch({ max_messages: ids.length, expires: 5_000 }));
    const published: PublishedUserEvent[] = [];
    for await (const m of messages) {
      published.push(PublishedUserEvent.parse(m.json()));
      expect(m.headers?.get('Nats-Msg-Id')).toBe(published[published.length - 1]!.event_id);
      for (const p of people) expect(m.string()).not.toContain(p.email);
      m.ack();
      if (published.length === ids.length) break;
    }
    expect(published.map((e) => e.event_id).sort()).toEqual([...ids].sort());
  });

  it('says so, with exit code 1, when NATS is not there', async () => {
    const run = await runAdmin(['replay'], { ...sys.env, NATS_URL: 'nats://127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/admin replay: NATS at nats:\/\/127\.0\.0\.1:1 did not answer within 5 s/);
  });
});
