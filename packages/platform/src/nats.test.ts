import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Headers, rpcSubject, Rpcs, type User } from '@um/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { createLogger } from './logger.js';
import { RpcClient, serveRpc, type RpcContext } from './nats.js';
import { DEFAULT_RETRY, RetryPolicy } from './rpc-retry.js';

const NATS_URL = testInfra().natsUrl;

const silent = createLogger('platform-nats-test', 'silent');
/** Every test gets its own namespace, so subjects never collide with other tests or runs. */
const freshNamespace = () => `t${randomBytes(6).toString('hex')}`;

/** Distinct user ids within this file. */
let lastId = 0;
const newId = () => ++lastId;

function user(id: number = newId()): User {
  const now = new Date().toISOString();
  return {
    id,
    username: 'alice_01',
    email: 'alice@example.com',
    config: { fio: 'Alice Example', birthday: '1990-01-02', tags: ['a'] },
    role: 'user',
    email_verified: false,
    created_at: now,
    updated_at: now,
  };
}

/** The AppError a call rejects with; fails the test when the call succeeds or rejects with something else. */
async function callError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected the call to fail');
}

let nc: NatsConnection;
let nc2: NatsConnection;
const opened: NatsConnection[] = [];

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL, name: 'platform-nats-test' });
  nc2 = await connect({ servers: NATS_URL, name: 'platform-nats-test-2' });
  opened.push(nc, nc2);
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});

describe('serveRpc + RpcClient', () => {
  it('round-trips a request and a reply through the contract', async () => {
    const namespace = freshNamespace();
    const id = newId();
    const seen: unknown[] = [];
    const sub = serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => {
      seen.push(req);
      return user(req.user_id);
    });
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 2_000);
    const reply = await client.call(Rpcs.users.get, { user_id: id }, { requestId: 'req-1' });
    expect(reply).toEqual({ ...user(id), created_at: reply.created_at, updated_at: reply.updated_at });
    expect(reply.id).toBe(id);
    expect(seen).toEqual([{ user_id: id }]);
    sub.unsubscribe();
  });

  it('passes the parsed (normalised) request to the handler', async () => {
    const namespace = freshNamespace();
    let got: unknown;
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.register, async (req) => {
      got = req;
      return user();
    });
    await nc.flush();
    await new RpcClient(nc2, namespace, 2_000).call(
      Rpcs.users.register,
      { username: ' alice_01 ', email: ' a@example.com', password: 'password1', fio: ' Alice ', birthday: '1990-01-02', tags: 'x, y,,x' },
      { requestId: 'r' },
    );
    // role defaults to 'user', declared attributes to none; client_ip stays absent when not sent
    expect(got).toEqual({
      username: 'alice_01',
      email: 'a@example.com',
      password: 'password1',
      fio: 'Alice',
      birthday: '1990-01-02',
      tags: ['x', 'y'],
      role: 'user',
      attributes: {},
    });
  });

  it('passes role and client_ip through when given', async () => {
    const namespace = freshNamespace();
    let got: unknown;
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.register, async (req) => {
      got = req;
      return user();
    });
    await nc.flush();
    await new RpcClient(nc2, namespace, 2_000).call(
      Rpcs.users.register,
      { username: 'bob_01', email: 'b@example.com', password: 'password1', fio: 'Bob', birthday: '1990-01-02', role: 'admin', client_ip: '203.0.113.7' },
      { requestId: 'r' },
    );
    expect(got).toEqual({
      attributes: {},
      username: 'bob_01',
      email: 'b@example.com',
      password: 'password1',
      fio: 'Bob',
      birthday: '1990-01-02',
      tags: [],
      role: 'admin',
      client_ip: '203.0.113.7',
    });
  });

  it('delivers an AppError thrown by the handler with the same code, id and message', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async () => {
      throw new AppError('not_found', 'users.get.not_found', 'User not found');
    });
    await nc.flush();
    const err = await callError(new RpcClient(nc2, namespace, 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    expect({ code: err.code, id: err.id, message: err.message, fields: err.fields }).toEqual({
      code: 'not_found',
      id: 'users.get.not_found',
      message: 'User not found',
      fields: undefined,
    });
  });

  it('delivers field errors and retry hints of an AppError', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async () => {
      throw new AppError('resource_exhausted', 'users.reset_rate_limited', 'Too many requests', [{ field: 'user_id', message: 'slow down' }], { retryAfterSeconds: 30 });
    });
    await nc.flush();
    const err = await callError(new RpcClient(nc2, namespace, 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    expect(err.code).toBe('resource_exhausted');
    expect(err.fields).toEqual([{ field: 'user_id', message: 'slow down' }]);
    expect(err.retryAfterSeconds).toBe(30);
  });

  it('turns any other thrown error into "internal" without leaking its details, and logs the cause', async () => {
    const namespace = freshNamespace();
    const lines: string[] = [];
    const log = createLogger('platform-nats-test', 'info', {}, { write: (l: string) => void lines.push(l) });
    serveRpc(nc, { namespace, service: 'users', log }, Rpcs.users.get, async () => {
      throw new Error('connection to db-host-7 refused (secret detail)');
    });
    await nc.flush();
    const err = await callError(new RpcClient(nc2, namespace, 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'req-internal' }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe('Internal error');
    expect(err.id).toBe('users.get.unexpected');
    expect(JSON.stringify(err.toBody())).not.toContain('secret detail');
    expect(inspect(err.cause)).not.toContain('secret detail');
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'rpc failed');
    expect(failed).toMatchObject({ request_id: 'req-internal', rpc: 'users.get', error_id: 'users.get.unexpected' });
    expect(JSON.stringify(failed)).toContain('secret detail');
  });

  it('answers "internal" when the handler returns something the reply contract refuses', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async () => ({ ...user(), id: -1 }));
    await nc.flush();
    const err = await callError(new RpcClient(nc2, namespace, 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe('Internal error');
  });

  it('refuses an invalid request with "invalid_argument" naming the field, without calling the handler', async () => {
    const namespace = freshNamespace();
    let calls = 0;
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => {
      calls++;
      return user(req.user_id);
    });
    await nc.flush();
    const err = await callError(new RpcClient(nc2, namespace, 2_000).call(Rpcs.users.get, { user_id: 0 }, { requestId: 'r' }));
    expect(err.code).toBe('invalid_argument');
    expect(err.id).toBe('users.get.invalid');
    expect(err.fields).toEqual([{ field: 'user_id', message: 'must be at least 1' }]);
    expect(err.message).toContain('user_id');
    expect(calls).toBe(0);
  });

  it('answers "bad_request" to a payload that is not JSON', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => user(req.user_id));
    await nc.flush();
    const msg = await nc2.request(rpcSubject(namespace, Rpcs.users.get.name), 'not json {', { timeout: 2_000 });
    expect(msg.json()).toEqual({ ok: false, error: { code: 'bad_request', id: 'rpc.payload_not_json', message: 'Request payload is not JSON' } });
  });

  it('fails with "unavailable" after a brief retry when nobody serves the subject', async () => {
    const namespace = freshNamespace();
    const started = performance.now();
    const policy = new RetryPolicy({ ...DEFAULT_RETRY, unavailableRetryMs: 300 });
    const err = await callError(new RpcClient(nc2, namespace, 5_000, policy).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe('unavailable');
    expect(err.id).toBe('rpc.no_responders');
    expect(err.message).toBe('The users service is not available');
    // asked again after 50 and 100 ms; the next pause would pass the 300 ms budget
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('answers once a replica comes up within the no-responders retry', async () => {
    const namespace = freshNamespace();
    const call = new RpcClient(nc2, namespace, 5_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' });
    await new Promise((r) => setTimeout(r, 400));
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => user(req.user_id));
    expect((await call).username).toBe('alice_01');
  });

  it('asks another replica when the one holding the request dies, long before the deadline', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => user(req.user_id));
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 10_000);
    // Measured first: the silence timeout comes from these (p99 gap × 2, at least 300 ms).
    for (let i = 0; i < 30; i++) await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'warm' });
    const replica = await connect({ servers: NATS_URL, name: 'platform-nats-test-dying-replica' });
    opened.push(replica);
    let swallowed = 0;
    // A second replica takes requests and dies holding them (its connection goes, as with kill -9).
    serveRpc(replica, { namespace, service: 'users', log: silent }, Rpcs.users.get, () => {
      if (swallowed++ === 0) setTimeout(() => void replica.close(), 50);
      return new Promise<never>(() => undefined);
    });
    await replica.flush();
    const results = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const started = performance.now();
        await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' });
        return performance.now() - started;
      }),
    );
    expect(swallowed).toBeGreaterThan(0);
    // Every call answered; the ones the dead replica held waited one silence, not the 10 s deadline.
    expect(Math.max(...results)).toBeLessThan(1_500);
  });

  it('never cuts a live replica that is slow: it sends signs of life and is asked once', async () => {
    const namespace = freshNamespace();
    let calls = 0;
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => {
      calls++;
      await new Promise((r) => setTimeout(r, 1_500));
      return user(req.user_id);
    });
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 5_000);
    expect((await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'slow' })).username).toBe('alice_01');
    // 1.5 s is far beyond any silence timeout (1 s before measurements): the signs of life kept the attempt.
    expect(calls).toBe(1);
  });

  it('a caller that asks for no signs of life (a plain request) gets only the answer', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => {
      await new Promise((r) => setTimeout(r, 400));
      return user(req.user_id);
    });
    await nc.flush();
    const msg = await nc2.request(rpcSubject(namespace, Rpcs.users.get.name), JSON.stringify({ user_id: newId() }), { timeout: 2_000 });
    expect(msg.json()).toMatchObject({ ok: true, data: { username: 'alice_01' } });
  });

  it('a responder that died before answering or sending any sign of life costs one silence, then the next replica answers', async () => {
    const namespace = freshNamespace();
    const replica = await connect({ servers: NATS_URL, name: 'platform-nats-test-mute-replica' });
    opened.push(replica);
    // A replica whose process hangs without a word: it takes the request and never replies or sends progress.
    const mute = replica.subscribe(rpcSubject(namespace, Rpcs.users.get.name), { queue: 'users', callback: () => undefined });
    await replica.flush();
    const client = new RpcClient(nc2, namespace, 10_000);
    const started = performance.now();
    const call = client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' });
    await new Promise((r) => setTimeout(r, 100));
    mute.unsubscribe();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req) => user(req.user_id));
    expect((await call).username).toBe('alice_01');
    const elapsed = performance.now() - started;
    // One silence before any measurement (1 s), not the 10 s deadline.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('fails with "timeout" after timeoutMs when the live responder does not answer in time (asked once, not three times)', async () => {
    const namespace = freshNamespace();
    let calls = 0;
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, () => {
      calls++;
      return new Promise<never>(() => undefined);
    });
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 10_000);
    const started = performance.now();
    const err = await callError(client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r', timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe('timeout');
    expect(err.id).toBe('rpc.timeout');
    expect(calls).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('uses the default timeout when the call gives none', async () => {
    const namespace = freshNamespace();
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, () => new Promise<never>(() => undefined));
    await nc.flush();
    const started = performance.now();
    const err = await callError(new RpcClient(nc2, namespace, 250).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    expect(err.code).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('hands the request id and actor id from the headers to the handler', async () => {
    const namespace = freshNamespace();
    const contexts: Array<Pick<RpcContext, 'requestId' | 'actorId'>> = [];
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req, ctx) => {
      contexts.push({ requestId: ctx.requestId, actorId: ctx.actorId });
      return user(req.user_id);
    });
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 2_000);
    const actor = String(newId());
    await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'req-abc-123', actorId: actor });
    await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'req-anonymous' });
    await client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'req-null-actor', actorId: null });
    expect(contexts).toEqual([
      { requestId: 'req-abc-123', actorId: actor },
      { requestId: 'req-anonymous', actorId: null },
      { requestId: 'req-null-actor', actorId: null },
    ]);
  });

  it('with a token verifier: on an RPC the gateway calls, the actor is the verified token, and x-actor-id alone counts for nothing', async () => {
    const namespace = freshNamespace();
    const alice = newId();
    // Stands in for TokenVerifier: one good token, everything else refused as it would be.
    const tokens = {
      verify: async (token: string) => {
        if (token !== 'good-token') throw new AppError('unauthenticated', 'auth.token_invalid', 'The access token is invalid');
        return { userId: alice, role: 'admin' as const, tokenId: 'jti', sessionId: 'sid' };
      },
    };
    const seen: Array<Pick<RpcContext, 'actorId'> & { caller?: number }> = [];
    const handler = async (req: { user_id: number }, ctx: RpcContext) => {
      seen.push({ actorId: ctx.actorId, ...(ctx.caller ? { caller: ctx.caller.userId } : {}) });
      return user(req.user_id);
    };
    serveRpc(nc, { namespace, service: 'users', log: silent, tokens }, Rpcs.users.get, handler);
    // An RPC only other services may call (NATS permissions) keeps taking x-actor-id as given.
    serveRpc(nc, { namespace, service: 'users', log: silent, tokens }, Rpcs.users.checkPasswordPolicy, async (_req, ctx) => {
      seen.push({ actorId: ctx.actorId });
      return { status: 'ok' as const };
    });
    await nc.flush();
    const client = new RpcClient(nc2, namespace, 2_000);
    const get = (meta: { actorId?: string; accessToken?: string }) => client.call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r', ...meta });

    await get({ actorId: String(alice), accessToken: 'good-token' });
    await get({ actorId: '1' });
    await get({ accessToken: 'good-token' });
    expect(seen).toEqual([{ actorId: String(alice), caller: alice }, { actorId: null }, { actorId: String(alice), caller: alice }]);
    // A forged token is refused; a good one does not lend its user to another x-actor-id.
    expect((await callError(get({ actorId: '1', accessToken: 'forged' }))).id).toBe('auth.token_invalid');
    expect((await callError(get({ actorId: '1', accessToken: 'good-token' }))).id).toBe('rpc.actor_not_token_subject');
    expect(seen).toHaveLength(3);

    await client.call(Rpcs.users.checkPasswordPolicy, { user_id: newId(), password: 'long enough password' }, { requestId: 'r', actorId: '7' });
    expect(seen[3]).toEqual({ actorId: '7' });
  });

  it('makes up a request id when the caller sent none', async () => {
    const namespace = freshNamespace();
    const ids: string[] = [];
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, async (req, ctx) => {
      ids.push(ctx.requestId);
      return user(req.user_id);
    });
    await nc.flush();
    const subject = rpcSubject(namespace, Rpcs.users.get.name);
    await nc2.request(subject, JSON.stringify({ user_id: newId() }), { timeout: 2_000 });
    const h = natsHeaders();
    h.set(Headers.actorId, 'someone');
    await nc2.request(subject, JSON.stringify({ user_id: newId() }), { timeout: 2_000, headers: h });
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id.length).toBeGreaterThan(0);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('answers each request once when two replicas share the queue group', async () => {
    const namespace = freshNamespace();
    const replica = await connect({ servers: NATS_URL, name: 'platform-nats-test-replica' });
    opened.push(replica);
    const counts = [0, 0];
    const handled = new Map<number, number>();
    const handler = (i: number) => async (req: { user_id: number }) => {
      counts[i]!++;
      handled.set(req.user_id, (handled.get(req.user_id) ?? 0) + 1);
      return user(req.user_id);
    };
    serveRpc(nc, { namespace, service: 'users', log: silent }, Rpcs.users.get, handler(0));
    serveRpc(replica, { namespace, service: 'users', log: silent }, Rpcs.users.get, handler(1));
    await Promise.all([nc.flush(), replica.flush()]);
    const client = new RpcClient(nc2, namespace, 2_000);
    const n = 60;
    const ids = Array.from({ length: n }, () => newId());
    const replies = await Promise.all(ids.map((id, i) => client.call(Rpcs.users.get, { user_id: id }, { requestId: `q-${i}` })));
    expect(replies.map((r) => r.id)).toEqual(ids);
    // give a duplicate delivery the chance to show up before counting
    await new Promise((r) => setTimeout(r, 100));
    expect(counts[0]! + counts[1]!).toBe(n);
    expect([...handled.values()].every((c) => c === 1)).toBe(true);
    expect(handled.size).toBe(n);
    // both replicas took part
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('keeps namespaces apart', async () => {
    const served = freshNamespace();
    serveRpc(nc, { namespace: served, service: 'users', log: silent }, Rpcs.users.get, async (req) => user(req.user_id));
    await nc.flush();
    const err = await callError(new RpcClient(nc2, freshNamespace(), 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' }));
    expect(err.code).toBe('unavailable');
    const ok = await new RpcClient(nc2, served, 2_000).call(Rpcs.users.get, { user_id: newId() }, { requestId: 'r' });
    expect(ok.username).toBe('alice_01');
  });
});
