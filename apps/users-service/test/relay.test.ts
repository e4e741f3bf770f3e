import { PublishedUserEvent, RegisterUser, streamName, Streams, usersEventsStream } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import { ensureStream, jetStreamOf, type JetStreamClient, type JetStreamManager } from '@um/platform';
import { testInfra, uniqueId, eventually } from '@um/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { registerUser } from '../src/application/register-user.js';
import { appendToStream, assignUserId, lockStream } from '../src/event-store/event-store.js';
import { setRole } from '../src/application/update-user.js';
import { EventRelay, type Publish, type RelayOptions } from '../src/relay/relay.js';
import { revokeFor } from '../src/relay/revocations.js';
import { meta, newUser, silentLog, usersFixture } from './setup.js';
import { uuidv7 } from '@um/platform';

let fx: Awaited<ReturnType<typeof usersFixture>>;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let namespace: string;
let stream: string;

beforeAll(async () => {
  fx = await usersFixture();
  nc = await connect({ servers: testInfra().natsUrl });
  ({ js, jsm } = await jetStreamOf(nc));
  namespace = uniqueId('relay');
  stream = await ensureStream(jsm, usersEventsStream(namespace), 1);
});
afterAll(async () => {
  await jsm?.streams.delete(streamName(namespace, Streams.usersEvents)).catch(() => undefined);
  await nc?.close();
  await fx?.close();
});

const realPublish: Publish = async (subject, payload, eventId) => {
  await js.publish(subject, payload, { msgID: eventId, timeout: 5000 });
};

/** What a relay's observer saw: whether it leads now, how many terms it led, how many events it published. */
interface Seen {
  leading: boolean;
  terms: number;
  published: number;
}

/** A relay and what its observer sees of it. */
function watched(o: Partial<RelayOptions> = {}): { r: EventRelay; seen: Seen } {
  const seen: Seen = { leading: false, terms: 0, published: 0 };
  const observer = {
    leadership: (leading: boolean) => {
      seen.leading = leading;
      if (leading) seen.terms++;
    },
    published: () => void seen.published++,
  };
  return {
    r: new EventRelay({ pool: fx.pool, databaseUrl: fx.databaseUrl, schema: fx.schema, namespace, publish: realPublish, log: silentLog, pollMs: 100, ...o, observer }),
    seen,
  };
}

function relay(publish: Publish = realPublish, pollMs = 100): EventRelay {
  return watched({ publish, pollMs }).r;
}

/** Every message in the stream, in stream order. */
async function streamEvents(): Promise<PublishedUserEvent[]> {
  const info = await jsm.streams.info(stream);
  const out: PublishedUserEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push(PublishedUserEvent.parse(m.json()));
  }
  return out;
}

/**
 * Pass until the checkpoint reaches the newest event. A pass can find nothing while any transaction
 * in the database is open (other test files run beside this one), so one pass is not enough.
 */
async function drain(r: EventRelay): Promise<void> {
  await eventually(async () => {
    while ((await r.pass()) > 0);
    const { rows } = await fx.pool.query(
      `SELECT (SELECT global_position FROM relay_checkpoints WHERE name = 'jetstream') AS cp,
              (SELECT global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS last`,
    );
    return rows[0].cp !== null && rows[0].cp === rows[0].last;
  }, 10_000);
}

async function eventIds(): Promise<string[]> {
  const { rows } = await fx.pool.query<{ event_id: string }>('SELECT event_id FROM events ORDER BY transaction_id, global_position');
  return rows.map((r) => r.event_id);
}

describe('outbox relay', () => {
  it('publishes every stored event once, in order, as a valid thin integration event', async () => {
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await registerUser(fx.deps, RegisterUser.parse(newUser()), { requestId: `r${i}`, actorId: null }));
    await deleteUser(fx.deps, users[0]!.id, meta);
    const r = relay();
    r.start();
    const expected = await eventIds();
    await eventually(async () => (await streamEvents()).length === expected.length, 10_000);
    await r.stop();
    const published = await streamEvents();
    expect(published.map((e) => e.event_id)).toEqual(expected);
    expect(published[0]).toMatchObject({ type: 'UserRegistered', version: 2, stream_version: 1, request_id: 'r0', data: { user_id: users[0]!.id, role: 'user' } });
    expect(published.at(-1)).toMatchObject({ type: 'UserDeleted', data: { user_id: users[0]!.id } });
    const text = JSON.stringify(published);
    for (const u of users) for (const v of [u.username, u.email, u.config.fio]) expect(text).not.toContain(v);
    // The internal stream keys stay inside: events name users by their integer id only.
    const { rows: streams } = await fx.pool.query<{ stream_id: string }>('SELECT stream_id FROM user_ids');
    for (const { stream_id } of streams) expect(text).not.toContain(stream_id);
    expect(published.every((e) => Number.isInteger(e.data.user_id) && !('stream_id' in e))).toBe(true);
  });

  it('revokes tokens for role changes and deletions before publishing them, retrying until it can (the durable half of revocation)', async () => {
    const [u, gone] = [await registerUser(fx.deps, RegisterUser.parse(newUser()), meta), await registerUser(fx.deps, RegisterUser.parse(newUser()), meta)];
    await drain(relay());
    await setRole(fx.deps, u.id, 'admin', meta);
    await deleteUser(fx.deps, gone.id, meta);
    const revoked: Array<[number, number]> = [];
    let failures = 2;
    const { r } = watched({
      pollMs: 50,
      beforePublish: (event) =>
        revokeFor(event, async (id, below) => {
          if (failures-- > 0) throw new Error('NATS KV away');
          revoked.push([id, below]);
        }),
    });
    await drain(r);
    const version = (await fx.pool.query('SELECT version FROM users WHERE id = $1', [u.id])).rows[0].version;
    expect(revoked).toEqual([
      [u.id, version],
      [gone.id, Number.MAX_SAFE_INTEGER],
    ]);
  });

  it('never passes over an event committed late by a concurrent transaction', async () => {
    const seen: string[] = [];
    const r = relay(async (subject, payload, id) => {
      seen.push(id);
      await realPublish(subject, payload, id);
    });
    await drain(r);
    seen.length = 0;

    // A transaction appends an event and stays open...
    const slow = await fx.pool.connect();
    await slow.query('BEGIN');
    const slowId = uuidv7();
    await lockStream(slow, slowId);
    const slowUserId = await assignUserId(slow, slowId);
    const [slowEvent] = await appendToStream(
      slow,
      slowId,
      0,
      [{ type: 'UserRegistered', data: { user_id: slowUserId, username: 'slow_user', email: 'slow@example.com', fio: 'Slow', birthday: '1990-01-01', tags: [], role: 'user' } }],
      {},
      new Date(),
    );
    // ...while another commits after it.
    const fast = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    expect(await r.pass()).toBe(0);
    expect(seen).toEqual([]);

    await slow.query('COMMIT');
    slow.release();
    await drain(r);
    const { rows } = await fx.pool.query('SELECT event_id FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1)', [fast.id]);
    expect(seen).toEqual([slowEvent!.eventId, rows[0].event_id]);
  });

  it('runs on one replica at a time, and another takes over when it stops', async () => {
    const [{ r: a, seen: sa }, { r: b, seen: sb }] = [watched(), watched()];
    a.start();
    await eventually(async () => sa.leading, 5000);
    b.start();
    for (let i = 0; i < 5; i++) await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    const expected = await eventIds();
    await eventually(async () => (await streamEvents()).length === expected.length, 10_000);
    expect(sb.leading).toBe(false);
    expect(sb.published).toBe(0);
    expect(sa.published).toBeGreaterThanOrEqual(5);

    await a.stop();
    expect(sa.leading).toBe(false);
    await eventually(async () => sb.leading, 10_000);
    await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    await eventually(async () => sb.published === 1, 10_000);
    await b.stop();
    expect((await streamEvents()).map((e) => e.event_id)).toEqual(await eventIds());
  });

  it('steps down when its lock connection dies, and exactly one relay leads afterwards', async () => {
    const [{ r: a, seen: sa }, { r: b, seen: sb }] = [watched(), watched()];
    a.start();
    await eventually(async () => sa.leading, 5000);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(sb.leading).toBe(false);
    // Kill the leader's connection from the server side, as a network failure or a reaper would.
    const { rows: killed } = await fx.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
          AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = $1)`,
      [`relay:${fx.schema}`],
    );
    expect(killed).toHaveLength(1);
    // A new term starts (either relay may win the lock), and never two leaders at once.
    await eventually(async () => sa.terms + sb.terms === 2 && sa.leading !== sb.leading, 10_000);
    const before = sa.published + sb.published;
    await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    for (let i = 0; i < 20 && sa.published + sb.published === before; i++) {
      expect(sa.leading && sb.leading).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sa.published + sb.published).toBe(before + 1);
    await Promise.all([a.stop(), b.stop()]);
    expect((await streamEvents()).map((e) => e.event_id)).toEqual(await eventIds());
  });

  it('keeps the backlog while publishing fails and drains it afterwards, nothing missing', async () => {
    let failing = true;
    const { r, seen } = watched({
      publish: async (subject, payload, id) => {
        if (failing) throw new Error('NATS is down');
        await realPublish(subject, payload, id);
      },
      pollMs: 50,
    });
    r.start();
    for (let i = 0; i < 3; i++) await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    await new Promise((res) => setTimeout(res, 300));
    expect(seen.published).toBe(0);
    failing = false;
    const expected = await eventIds();
    await eventually(async () => (await streamEvents()).length === expected.length, 15_000);
    await r.stop();
    expect((await streamEvents()).map((e) => e.event_id)).toEqual(expected);
  });

  it('relies on JetStream de-duplication when it republishes after a crash', async () => {
    await fx.pool.query('DELETE FROM relay_checkpoints');
    const { r, seen } = watched();
    await drain(r);
    expect(seen.published).toBe((await eventIds()).length);
    expect((await streamEvents()).map((e) => e.event_id)).toEqual(await eventIds());
  });
});
