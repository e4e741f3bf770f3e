/** Registration (POST /register) and email confirmation (GET /confirm-email, POST /confirm-email/resend). */
import { describe, expect, it } from 'vitest';
import { replyByRpc, validRegistration } from './route-requests.js';
import { expectProblem, newSub, newUserId, requester, signToken, startGateway, useGateway, userReply } from './support.js';

const h = useGateway();
const { send, postJson } = requester(() => h);

describe('POST /register', () => {
  it('forwards the validated, normalised body and answers 201', async () => {
    const reply = userReply();
    h.rpc.reply = () => reply;
    const a = await postJson('/register', { ...validRegistration, username: '  alice_1 ', email: ' alice@example.com ', tags: ' b, a,b ', extra: 'dropped' });
    expect(a.status).toBe(201);
    expect(a.body).toEqual(reply);
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'users.register',
        input: { ...validRegistration, tags: ['b', 'a'], client_ip: '127.0.0.1', attributes: {} },
        meta: { requestId: a.headers.get('x-request-id'), actorId: null, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it('never forwards a role or a client address from the body', async () => {
    h.rpc.reply = replyByRpc;
    const a = await postJson('/register', { ...validRegistration, role: 'admin', client_ip: '203.0.113.9' });
    expect(a.status, a.text).toBe(201);
    expect(a.body.role).toBe('user');
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.register', input: { ...validRegistration, client_ip: '127.0.0.1', attributes: {} } })]);
  });

  it('does not take the client address from X-Forwarded-For unless told to trust a proxy', async () => {
    h.rpc.reply = replyByRpc;
    const a = await postJson('/register', validRegistration, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(a.status).toBe(201);
    expect((h.rpc.calls[0]!.input as { client_ip: string }).client_ip).toBe('127.0.0.1');
  });

  it('behind a trusted proxy, forwards the client address the proxy reports', async () => {
    const behindProxy = await startGateway(undefined, { trustProxy: 'loopback' });
    try {
      behindProxy.rpc.reply = replyByRpc;
      const viaProxy = requester(() => behindProxy);
      const a = await viaProxy.postJson('/register', validRegistration, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(a.status).toBe(201);
      const b = await viaProxy.postJson('/login', { username: 'alice_1', password: 'secret' }, { headers: { 'x-forwarded-for': '198.51.100.4, 127.0.0.1' } });
      expect(b.status).toBe(200);
      expect(behindProxy.rpc.calls.map((c) => [c.rpc, (c.input as { client_ip: string }).client_ip])).toEqual([
        ['users.register', '203.0.113.9'],
        ['auth.login', '198.51.100.4'],
      ]);
    } finally {
      await behindProxy.close();
    }
  });

  it('defaults tags to []', async () => {
    h.rpc.reply = () => userReply();
    const { tags: _t, ...noTags } = validRegistration;
    expect((await postJson('/register', noTags)).status).toBe(201);
    expect((h.rpc.calls[0]!.input as { tags: unknown }).tags).toEqual([]);
  });

  it('answers 422 with one entry per bad field and does not call the service', async () => {
    const a = await postJson('/register', {
      username: 'a b',
      email: 'not-an-email',
      password: 'short',
      fio: '   ',
      birthday: '2020-13-01',
      tags: 5,
    });
    expectProblem(a, 422, 'invalid_argument');
    const fields = (a.body.errors as { field: string; message: string }[]).map((e) => e.field);
    expect(fields.sort()).toEqual(['birthday', 'email', 'fio', 'password', 'tags', 'username']);
    for (const e of a.body.errors) expect(e.message.length).toBeGreaterThan(0);
    expect(a.body.errors).toContainEqual({ field: 'birthday', message: 'must be a real calendar date' });
    expect(a.body.errors).toContainEqual({ field: 'password', message: 'must be at least 8 characters' });
    expect(h.rpc.calls).toEqual([]);
  });

  it('names every missing field as required', async () => {
    const a = await postJson('/register', {});
    expectProblem(a, 422);
    expect(a.body.errors).toEqual(expect.arrayContaining(['username', 'email', 'password', 'fio', 'birthday'].map((field) => ({ field, message: 'is required' }))));
    expect(a.body.errors).toHaveLength(5);
    expect(h.rpc.calls).toEqual([]);
  });

  it('malformed JSON → 400', async () => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": "alice",' });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a body over 100 KB → 413', async () => {
    const a = await postJson('/register', { ...validRegistration, fio: 'x'.repeat(101 * 1024) });
    expectProblem(a, 413);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a body just under 100 KB is read (and then validated)', async () => {
    const a = await postJson('/register', { ...validRegistration, fio: 'x'.repeat(99 * 1024) });
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'fio', message: 'must be at most 200 characters' }]);
  });

  it('text/plain → 415', async () => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(validRegistration) });
    expectProblem(a, 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('no body at all → 415', async () => {
    const a = await send('/register', { method: 'POST' });
    expectProblem(a, 415);
  });

  it.each([
    ['an array', '[1, 2]'],
    ['an array of the right object', JSON.stringify([validRegistration])],
  ])('a JSON body that is %s → 400', async (_label, body) => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(['"a string"', 'null', '42'])('a JSON scalar body %s → 400', async (body) => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it('an unsupported content encoding → 415', async () => {
    const a = await send('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      body: JSON.stringify(validRegistration),
    });
    expectProblem(a, 415);
  });

  it('GET /register → 405 with Allow', async () => {
    const a = await send('/register');
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('POST');
  });

  // every method of a path, its aliases' included, and nothing else
  it.each([
    ['PATCH', '/users', ['GET', 'POST', 'PUT', 'DELETE']],
    ['POST', `/users/${newSub()}`, ['GET', 'PATCH', 'DELETE', 'PUT']],
    ['GET', '/users/me/password', ['PUT']],
    ['GET', `/users/${newSub()}/role`, ['PUT']],
    ['DELETE', `/users/${newSub()}/history`, ['GET']],
    ['GET', '/logout', ['POST']],
    ['GET', '/refresh', ['POST']],
    ['POST', '/.well-known/jwks.json', ['GET']],
    ['GET', '/auth/register', ['POST']],
    ['GET', '/auth/login', ['POST']],
    ['GET', '/refresh_jwt', ['POST']],
    ['POST', '/user', ['GET']],
  ])('%s %s → 405 with Allow: %j', async (method, path, allowed) => {
    const a = await send(path, { method, token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 405);
    const allow = a.headers.get('allow')!.split(', ');
    expect(allow.length).toBe(new Set(allow).size);
    expect(allow.sort()).toEqual([...allowed].sort());
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(['DELETE', 'PATCH', 'PUT', 'POST'])('%s /users/search → 405 with Allow: GET, not a call about a user named "search"', async (method) => {
    for (const token of [await signToken(h.key, { role: 'admin' }), await signToken(h.key), undefined]) {
      const a = await send('/users/search', { method, ...(token ? { token } : {}), ...(method === 'DELETE' ? {} : { json: { fio: 'X' } }) });
      expectProblem(a, 405);
      expect(a.headers.get('allow')).toBe('GET');
    }
    expect(h.rpc.calls).toEqual([]);
  });

  it('GET and HEAD /users/search still search; DELETE /users/me is still the caller deleting themselves', async () => {
    h.rpc.reply = replyByRpc;
    const token = await signToken(h.key);
    expect((await send('/users/search?username=alice', { token })).status).toBe(200);
    expect((await send('/users/search?username=alice', { method: 'HEAD', token })).status).toBe(200);
    expect((await send('/users/me', { method: 'DELETE', token })).status).toBe(204);
  });

  it('an unknown path → 404 problem+json', async () => {
    const a = await send('/nope/nothing-here');
    expectProblem(a, 404, 'not_found');
    expect(a.body.detail).toContain('/nope/nothing-here');
  });
});

describe('GET /confirm-email', () => {
  it('forwards the token without authentication and answers only the outcome, no-store', async () => {
    h.rpc.reply = () => userReply();
    const a = await send('/confirm-email?token=abc123');
    expect(a.status).toBe(200);
    // links get forwarded: whoever opens one learns nothing about the account
    expect(a.body).toEqual({ status: 'confirmed' });
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.confirm_email', input: { token: 'abc123' }, meta: expect.objectContaining({ actorId: null }) })]);
  });

  it('without a token → 422', async () => {
    const a = await send('/confirm-email');
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'token', message: 'is required' }]);
  });
});

describe('POST /confirm-email/resend', () => {
  it('asks for the caller, never for an id from the request', async () => {
    const self = newSub();
    h.rpc.reply = replyByRpc;
    const a = await postJson('/confirm-email/resend', { user_id: newUserId() }, { token: await signToken(h.key, { sub: self }) });
    expect(a.status).toBe(202);
    expect(a.body).toEqual({ status: 'accepted' });
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.request_email_confirmation', input: { user_id: Number(self) } })]);
  });
});
