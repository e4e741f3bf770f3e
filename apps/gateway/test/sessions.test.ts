/** Sessions: login, refresh, logout, revoked sessions, password change and the JWKS that verifies their tokens. */
import { randomUUID } from 'node:crypto';
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { DEVICE_TOKEN, expectNoContent, expectProblem, fieldsOf, loginReply, loginRpcReply, newUserId, requester, useGateway, userReply } from './support.js';
import { tokens, userCalls } from './user-calls.js';

const h = useGateway();
const { send, postJson } = requester(() => h);
const { caller, services, expectCall } = userCalls(h);

describe('POST /login', () => {
  const rpcReply = loginRpcReply();
  const token = loginReply(rpcReply.user);

  it('accepts JSON and forwards the trimmed username', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: '  alice_1 ', password: ' p@ss word ' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(token);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'auth.login',
        input: { username: 'alice_1', password: ' p@ss word ', client_ip: '127.0.0.1' },
        meta: { requestId: a.headers.get('x-request-id'), actorId: null, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it('accepts the OAuth2 password form', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice@example.com', password: 'p&ss=word+1', grant_type: 'password' }).toString(),
    });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(token);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'auth.login',
        input: { username: 'alice@example.com', password: 'p&ss=word+1', grant_type: 'password', client_ip: '127.0.0.1' },
        meta: expect.objectContaining({ actorId: null }),
      },
    ]);
  });

  it('answers the tokens and the user as auth-service sends them', async () => {
    const user = userReply(newUserId(), { role: 'admin', email_verified: true });
    h.rpc.reply = () => ({ ...loginRpcReply(user), internal: 'dropped by the contract' });
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(loginReply(user));
    expect(Object.keys(a.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type', 'user']);
  });

  it('sets the device cookie auth-service issued (HttpOnly, SameSite=Strict), never in the body, and sends it back on the next login', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expect(a.status).toBe(200);
    expect(a.text).not.toContain(DEVICE_TOKEN);
    const cookie = a.headers.get('set-cookie')!;
    expect(cookie).toBe(`um_device=${DEVICE_TOKEN}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict`);

    const b = await send('/login', { method: 'POST', json: { username: 'alice_1', password: 'secret' }, headers: { cookie: `other=1; um_device=${DEVICE_TOKEN}` } });
    expect(b.status).toBe(200);
    expect(h.rpc.calls.at(-1)).toEqual(expect.objectContaining({ input: expect.objectContaining({ device_token: DEVICE_TOKEN }) }));
  });

  it('never takes the client address from the body', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: 'alice_1', password: 'secret', client_ip: '203.0.113.9' });
    expect(a.status).toBe(200);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ input: { username: 'alice_1', password: 'secret', client_ip: '127.0.0.1' } })]);
  });

  it('a reply that breaks the contract is a 500, not passed on', async () => {
    h.rpc.reply = () => ({ access_token: 'a.b.c', token_type: 'bearer', expires_in: 900 });
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('a.b.c');
  });

  it('takes a form only where the API document says so: a form to POST /refresh is 415', async () => {
    const a = await send('/refresh', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'refresh_token=abc' });
    expectProblem(a, 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('refuses another grant type', async () => {
    const a = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=secret&grant_type=client_credentials',
    });
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'grant_type', message: 'must be "password"' }]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('bad credentials from auth-service → 401', async () => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Wrong username or password');
    };
    const a = await postJson('/login', { username: 'alice', password: 'wrong' });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.body.detail).toBe('Wrong username or password');
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });
});

describe('POST /refresh', () => {
  it('forwards the refresh token without authentication and answers the new tokens, no-store', async () => {
    h.rpc.reply = services;
    const a = await postJson('/refresh', { refresh_token: 'old-refresh-token' });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toEqual(tokens);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expectCall(a, 'auth.refresh', { refresh_token: 'old-refresh-token' }, null);
  });

  it('ignores an Authorization header, even a garbage one', async () => {
    h.rpc.reply = services;
    const a = await postJson('/refresh', { refresh_token: 'r' }, { headers: { authorization: 'Bearer garbage' } });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.meta.actorId).toBeNull();
  });

  it('forwards nothing but the refresh token', async () => {
    h.rpc.reply = services;
    const a = await postJson('/refresh', { refresh_token: 'r', user_id: newUserId(), role: 'admin' });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ refresh_token: 'r' });
  });

  it.each([
    ['no refresh_token', {}, 'is required'],
    ['an empty refresh_token', { refresh_token: '' }, 'is required'],
    ['a refresh_token that is not a string', { refresh_token: 42 }, 'is required'],
    ['a refresh_token of 201 characters', { refresh_token: 'r'.repeat(201) }, 'is too long'],
  ])('%s → 422, not forwarded', async (_label, body, message) => {
    const a = await postJson('/refresh', body);
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors).toEqual([{ field: 'refresh_token', message }]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a refresh_token of 200 characters is forwarded', async () => {
    h.rpc.reply = services;
    expect((await postJson('/refresh', { refresh_token: 'r'.repeat(200) })).status).toBe(200);
  });

  it('no body → 415', async () => {
    expectProblem(await send('/refresh', { method: 'POST' }), 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a spent or unknown refresh token (auth-service says unauthenticated) → 401', async () => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'auth.refresh_invalid', 'The refresh token is no longer valid');
    };
    const a = await postJson('/refresh', { refresh_token: 'spent' });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.body.detail).toBe('The refresh token is no longer valid');
  });
});

describe('logins and refresh take no Idempotency-Key: every request is answered from the current state', () => {
  it.each([
    ['/login', { username: 'alice_1', password: 'secret' }],
    ['/auth/login', { email: 'alice@example.com', password: 'secret' }],
    ['/login/mfa', { ticket: 'a-ticket', code: '123456' }],
    ['/refresh', { refresh_token: 'spent' }],
    ['/refresh_jwt', { refresh_token: 'spent' }],
  ])("POST %s ignores the client's key: each request goes to auth-service under a key of its own", async (path, body) => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'auth.refresh_invalid', 'The refresh token is invalid, expired or revoked');
    };
    const key = `client-key-${randomUUID()}`;
    for (let i = 0; i < 2; i++) expectProblem(await postJson(path, body, { headers: { 'idempotency-key': key } }), 401, 'unauthenticated');
    // Ignored, not refused: an old client sending a key that would be 400 elsewhere still gets in.
    expectProblem(await postJson(path, body, { headers: { 'idempotency-key': 'k'.repeat(300) } }), 401, 'unauthenticated');
    const keys = h.rpc.calls.map((c) => c.meta.idempotencyKey);
    expect(keys).toEqual([expect.stringMatching(/^gw-/), expect.stringMatching(/^gw-/), expect.stringMatching(/^gw-/)]);
    expect(new Set(keys).size).toBe(3);
  });

  it("other writes still forward the client's key", async () => {
    h.rpc.reply = () => ({ status: 'accepted' });
    const key = `client-key-${randomUUID()}`;
    expect((await postJson('/password/forgot', { email: 'alice@example.com' }, { headers: { 'idempotency-key': key } })).status).toBe(202);
    expect(h.rpc.calls.map((c) => c.meta.idempotencyKey)).toEqual([key]);
  });
});

describe('POST /logout', () => {
  it("ends the caller's session, named by the token's sid: 204 with an empty body", async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/logout', { method: 'POST', token: me.token });
    expectNoContent(a);
    expectCall(a, 'auth.logout', { user_id: me.id, session_id: me.sid, all: false }, me);
  });

  it.each([
    ['all=true', true],
    ['all=1', true],
    ['all=false', false],
    ['all=0', false],
  ])('?%s → all: %s', async (q, all) => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(`/logout?${q}`, { method: 'POST', token: me.token });
    expectNoContent(a);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ input: { user_id: me.id, session_id: me.sid, all } })]);
  });

  it.each(['all=yes', 'all=', 'all=TRUE', 'all=true&all=false'])('?%s → 422, not forwarded', async (q) => {
    const me = await caller();
    const a = await send(`/logout?${q}`, { method: 'POST', token: me.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(fieldsOf(a)).toEqual(['all']);
    expect(h.rpc.calls).toEqual([]);
  });

  it('logs out the caller only, whatever the body names', async () => {
    const me = await caller('admin');
    h.rpc.reply = services;
    const a = await postJson('/logout', { user_id: newUserId(), session_id: randomUUID(), all: true }, { token: me.token });
    expectNoContent(a);
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: me.id, session_id: me.sid, all: false });
  });

  it('without a token → 401, not forwarded', async () => {
    const a = await send('/logout', { method: 'POST' });
    expectProblem(a, 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });

  it('with a token of an already revoked session → 401', async () => {
    const me = await caller();
    h.revocations.revokedSessions.add(me.sid);
    expectProblem(await send('/logout', { method: 'POST', token: me.token }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });
});

describe('revoked sessions', () => {
  it.each([
    ['GET', '/users/me'],
    ['POST', '/logout'],
    ['DELETE', '/users'],
    ['GET', '/user'],
  ])('%s %s with a token whose session was revoked → 401', async (method, path) => {
    const me = await caller('admin');
    h.revocations.revokedSessions.add(me.sid);
    const a = await send(path, { method, token: me.token });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(h.rpc.calls).toEqual([]);
    expect(h.revocations.asked).toEqual([[me.id, expect.any(Number), me.sid]]);
  });
});

describe('PUT /users/me/password', () => {
  const body = { current_password: 'old password 1', new_password: 'new password 2' };

  it('forwards both passwords with the caller and their session', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me/password', { method: 'PUT', json: body, token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toEqual({ status: 'changed', sessions_ended: 2 });
    expectCall(a, 'auth.change_password', { ...body, user_id: me.id, session_id: me.sid }, me);
  });

  it('takes the user and session from the token, never from the body', async () => {
    const me = await caller('admin');
    h.rpc.reply = services;
    await send('/users/me/password', { method: 'PUT', json: { ...body, user_id: newUserId(), session_id: randomUUID() }, token: me.token });
    expect(h.rpc.calls[0]!.input).toEqual({ ...body, user_id: me.id, session_id: me.sid });
  });

  it.each([
    ['a new password of 7 characters', { ...body, new_password: '1234567' }, [{ field: 'new_password', message: 'must be at least 8 characters' }]],
    ['a new password over 72 bytes', { ...body, new_password: 'я'.repeat(37) }, [{ field: 'new_password', message: 'must be at most 72 bytes in UTF-8' }]],
    ['no current password', { new_password: 'new password 2' }, [{ field: 'current_password', message: 'is required' }]],
    ['an empty current password', { ...body, current_password: '' }, [{ field: 'current_password', message: 'is required' }]],
  ])('%s → 422, not forwarded', async (_label, json, errors) => {
    const me = await caller();
    const a = await send('/users/me/password', { method: 'PUT', json, token: me.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors).toEqual(errors);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a new password of exactly 8 characters is forwarded', async () => {
    const me = await caller();
    h.rpc.reply = services;
    expect((await send('/users/me/password', { method: 'PUT', json: { ...body, new_password: '12345678' }, token: me.token })).status).toBe(200);
  });

  it('without a token → 401', async () => {
    expectProblem(await send('/users/me/password', { method: 'PUT', json: body }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a wrong current password (auth-service refuses) is passed on', async () => {
    const me = await caller();
    h.rpc.reply = () => {
      throw new AppError('permission_denied', 'access.forbidden', 'The current password is wrong');
    };
    const a = await send('/users/me/password', { method: 'PUT', json: body, token: me.token });
    expectProblem(a, 403, 'permission_denied');
    expect(a.body.detail).toBe('The current password is wrong');
  });
});

describe('GET /.well-known/jwks.json', () => {
  it("answers auth-service's public keys to anyone, cacheable", async () => {
    h.rpc.reply = services;
    const a = await send('/.well-known/jwks.json');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ keys: [h.key.jwk] });
    expect(a.body.keys[0].d).toBeUndefined();
    expect(a.headers.get('cache-control')).toBe('public, max-age=300');
    expectCall(a, 'auth.jwks', {}, null);
  });

  it('auth-service down → 503', async () => {
    h.rpc.reply = () => {
      throw new AppError('unavailable', 'rpc.no_responders', 'The auth service is not available');
    };
    expectProblem(await send('/.well-known/jwks.json'), 503, 'unavailable');
  });
});
