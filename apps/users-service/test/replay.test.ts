import { PublishedUserEvent, RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { registerUser } from '../src/application/register-user.js';
import { appendToStream, lockStream } from '../src/event-store/event-store.js';
import { replayEvents } from '../src/relay/replay-events.js';
import { meta, newUser, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;

beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const stored = async () => (await fx.pool.query<{ event_id: string }>('SELECT event_id FROM events ORDER BY transaction_id, global_position')).rows.map((r) => r.event_id);

function collect() {
  const sent: Array<{ subject: string; event: PublishedUserEvent; id: string; raw: string }> = [];
  const progress: Array<[number, number]> = [];
  const run = () =>
    replayEvents({
      pool: fx.pool,
      schema: fx.schema,
      namespace: 'ns',
      batchSize: 2,
      publish: async (subject, payload, id) => {
        sent.push({ subject, event: PublishedUserEvent.parse(JSON.parse(payload)), id, raw: payload });
      },
      onProgress: (done, total) => progress.push([done, total]),
    });
  return { sent, progress, run };
}

describe('replayEvents', () => {
  it("republishes every stored event in the relay's order and form, thin, with its id, counting progress", async () => {
    const inputs = [newUser(), newUser(), newUser()];
    const users = [];
    for (const input of inputs) users.push(await registerUser(fx.deps, RegisterUser.parse(input), meta));
    await deleteUser(fx.deps, users[1]!.id, meta);
    const ids = await stored();

    const { sent, progress, run } = collect();
    expect(await run()).toBe(ids.length);
    expect(sent.map((s) => s.id)).toEqual(ids);
    expect(sent.map((s) => s.event.event_id)).toEqual(ids);
    expect(sent.map((s) => s.subject)).toEqual(sent.map((s) => `ns.um.evt.users.${s.event.type}`));
    for (const s of sent) for (const input of inputs) for (const personal of [input.email, input.username, input.fio]) expect(s.raw).not.toContain(personal);
    expect(progress[0]).toEqual([0, ids.length]);
    expect(progress.at(-1)).toEqual([ids.length, ids.length]);
    expect(progress.map(([done]) => done)).toEqual([...progress.map(([done]) => done)].sort((a, b) => a - b));
  });

  it('waits for a transaction still open below its last event, as the relay does, and leaves events committed after it began to the relay', async () => {
    const early = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    // An append whose transaction stays open while later events commit: its xid is below theirs.
    const client = await fx.pool.connect();
    await client.query('BEGIN');
    await lockStream(client, early.id);
    await client.query('SELECT pg_current_xact_id()');
    const later = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    const { sent, run } = collect();
    const replay = run();
    await new Promise((r) => setTimeout(r, 500));
    expect(sent.map((s) => s.event.data.user_id)).not.toContain(later.id);
    const after = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    await appendToStream(client, early.id, 1, [{ type: 'EmailConfirmed', data: { user_id: early.id } }], { request_id: 't', actor_id: null }, new Date());
    await client.query('COMMIT');
    client.release();
    await replay;
    // everything up to the last event committed when it began, the late commit below it included; nothing after
    const all = await stored();
    expect(sent.map((s) => s.id)).toEqual(all.slice(0, sent.length));
    expect(sent.map((s) => s.event.type)).toContain('EmailConfirmed');
    expect(sent.map((s) => s.event.data.user_id)).toContain(later.id);
    expect(sent.map((s) => s.event.data.user_id)).not.toContain(after.id);
    expect(all.length).toBe(sent.length + 1);
  });
});
