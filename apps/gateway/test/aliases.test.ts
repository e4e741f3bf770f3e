/** The other ways in, from older clients: POST /user_delete/{id} and the aliases (POST /auth/register, POST /auth/login, POST /refresh_jwt, GET /user, PUT and DELETE /users, PUT /users/{id}), each acting as its route. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replyByRpc } from './route-requests.js';
import { expectNoContent, expectProblem, fieldsOf, loginReply, newSub, newUserId, requester, signToken, useGateway } from './support.js';
import { registration, tokens, userCalls } from './user-calls.js';

const h = useGateway();
const { send, postJson } = requester(() => h);
const { caller, services, expectCall } = userCalls(h);

describe('POST /user_delete/{id}', () => {
  it('a user deleting themselves is forwarded', async () => {
    const self = newSub();
    h.rpc.reply = replyByRpc;
    const token = await signToken(h.key, { sub: self });
    const a = await send(`/user_delete/${self}`, { method: 'POST', token });
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(Number(self));
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'users.delete',
        input: { user_id: Number(self) },
        meta: { requestId: a.headers.get('x-request-id'), actorId: self, accessToken: token, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it('a user deleting someone else is refused without asking the service', async () => {
    const a = await send(`/user_delete/${newSub()}`, { method: 'POST', token: await signToken(h.key, { sub: newSub() }) });
    expectProblem(a, 403, 'permission_denied');
    expect(a.headers.get('www-authenticate')).toBeNull();
    expect(h.rpc.calls).toEqual([]);
  });

  it('an admin deleting anyone is forwarded', async () => {
    const adminId = newSub();
    const victim = newSub();
    h.rpc.reply = replyByRpc;
    const token = await signToken(h.key, { sub: adminId, role: 'admin' });
    const a = await send(`/user_delete/${victim}`, { method: 'POST', token });
    expect(a.status).toBe(200);
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'users.delete',
        input: { user_id: Number(victim) },
        meta: { requestId: a.headers.get('x-request-id'), actorId: adminId, accessToken: token, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it.each(['not-an-id', '0', '0123', randomUUID(), '9007199254740992', "1'%20OR%20'1'='1"])('a malformed id (%s) is 404 for an admin', async (id) => {
    const a = await send(`/user_delete/${id}`, { method: 'POST', token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a malformed id is 404 for a user too, and without a token: it names nothing', async () => {
    expectProblem(await send('/user_delete/not-an-id', { method: 'POST', token: await signToken(h.key) }), 404, 'not_found');
    expectProblem(await send('/user_delete/not-an-id', { method: 'POST' }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('GET is 405 with Allow: POST', async () => {
    const a = await send(`/user_delete/${newSub()}`, { token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('POST');
    expect(h.rpc.calls).toEqual([]);
  });
});

describe('aliases', () => {
  it("POST /auth/register takes spec 001's body: name is fio, no username (derived by users-service), client address, validation", async () => {
    h.rpc.reply = services;
    const a = await postJson('/auth/register', { name: registration.fio, email: registration.email, password: registration.password });
    expect(a.status, a.text).toBe(201);
    expectCall(a, 'users.register', { fio: registration.fio, email: registration.email, password: registration.password, tags: [], attributes: {}, client_ip: '127.0.0.1' }, null);
    expect(a.body.name).toBe(a.body.config.fio);
    h.rpc.reset();
    const bad = await postJson('/auth/register', { name: 'X', email: 'nope', password: 'short' });
    expectProblem(bad, 422, 'invalid_argument');
    expect(fieldsOf(bad)).toEqual(['email', 'password']);
    // phone is not declared by the default profile schema: refused, never silently dropped
    const undeclared = await postJson('/auth/register', { name: 'X', email: 'x@example.com', password: 'long enough 1', phone: '+1 555 0100', role: 'admin' });
    expectProblem(undeclared, 422, 'invalid_argument');
    expect(h.rpc.calls).toEqual([]);
  });

  it("POST /auth/login is POST /login with spec 001's names in the user: tokens and user, no-store, JSON or form", async () => {
    h.rpc.reply = services;
    const a = await postJson('/auth/login', { username: ' alice_1 ', password: 'secret' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(loginReply(a.body.user));
    expect(a.body.user.name).toBe(a.body.user.config.fio);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expectCall(a, 'auth.login', { username: 'alice_1', password: 'secret', client_ip: '127.0.0.1' }, null);
    h.rpc.reset();
    h.rpc.reply = services;
    const form = await send('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice_1&password=secret&grant_type=password',
    });
    expect(form.status).toBe(200);
    h.rpc.reset();
    const bad = await postJson('/auth/login', { username: 'alice_1' });
    expectProblem(bad, 422);
    expect(bad.body.errors).toEqual([{ field: 'password', message: 'is required' }]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('POST /refresh_jwt is POST /refresh: no-store, 422 without a refresh token', async () => {
    h.rpc.reply = services;
    const a = await postJson('/refresh_jwt', { refresh_token: 'old' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(tokens);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expectCall(a, 'auth.refresh', { refresh_token: 'old' }, null);
    h.rpc.reset();
    const bad = await postJson('/refresh_jwt', {});
    expectProblem(bad, 422);
    expect(bad.body.errors).toEqual([{ field: 'refresh_token', message: 'is required' }]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('GET /user is GET /users/me', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/user', { token: me.token });
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(me.id);
    expectCall(a, 'users.get', { user_id: me.id }, me);
  });

  it('PUT /users updates the caller: {user_id: caller, changes}', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users', { method: 'PUT', json: { fio: ' New Name ' }, token: me.token });
    expect(a.status, a.text).toBe(200);
    expectCall(a, 'users.update', { user_id: me.id, changes: { fio: 'New Name' } }, me);
  });

  it('PUT /users with only a password changes it and answers the user as it is (200, not a 500 after the change)', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users', { method: 'PUT', json: { password: 'a new long password' }, token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body.data.id).toBe(me.id);
    expect(h.rpc.calls.map((c) => [c.rpc, c.input])).toEqual([
      ['auth.change_password', { new_password: 'a new long password', user_id: me.id, session_id: me.sid }],
      ['users.get', { user_id: me.id }],
    ]);
  });

  it('PUT /users by an admin updates the admin, no one else', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    // a user_id in the body is an unknown field, not a target
    expectProblem(await send('/users', { method: 'PUT', json: { fio: 'X', user_id: newUserId() }, token: admin.token }), 422);
    expect(h.rpc.calls).toEqual([]);
    const a = await send('/users', { method: 'PUT', json: { fio: 'X' }, token: admin.token });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: admin.id, changes: { fio: 'X' } });
  });

  it.each([
    ['an empty body', {}, ['(body)']],
    ['an unknown field', { fio: 'X', role: 'admin' }, ['role']],
    ['an invalid email', { email: 'nope' }, ['email']],
  ])('PUT /users with %s → 422, not forwarded', async (_label, json, fields) => {
    const me = await caller();
    const a = await send('/users', { method: 'PUT', json, token: me.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(fieldsOf(a)).toEqual(fields);
    expect(h.rpc.calls).toEqual([]);
  });

  it('PUT /users without a token → 401', async () => {
    expectProblem(await send('/users', { method: 'PUT', json: { fio: 'X' } }), 401, 'unauthenticated');
  });

  it('DELETE /users deletes the caller: 204 with an empty body', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users', { method: 'DELETE', token: me.token });
    expectNoContent(a);
    expectCall(a, 'users.delete', { user_id: me.id }, me);
  });

  it('DELETE /users by an admin deletes the admin', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    expectNoContent(await send('/users', { method: 'DELETE', token: admin.token }));
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: admin.id });
  });

  it('DELETE /users without a token → 401', async () => {
    expectProblem(await send('/users', { method: 'DELETE' }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });

  it('PUT /users/{id} is PATCH /users/{id}: self and `me` allowed', async () => {
    const me = await caller();
    h.rpc.reply = services;
    for (const target of [me.id, 'me']) {
      const a = await send(`/users/${target}`, { method: 'PUT', json: { fio: 'X' }, token: me.token });
      expect(a.status, `${target}: ${a.text}`).toBe(200);
    }
    expect(h.rpc.calls.map((c) => c.input)).toEqual(Array.from({ length: 2 }, () => ({ user_id: me.id, changes: { fio: 'X' } })));
    expect(h.rpc.calls.every((c) => c.rpc === 'users.update')).toBe(true);
  });

  it('PUT /users/{id} of someone else → 403 for a user, forwarded for an admin', async () => {
    const me = await caller();
    const other = newUserId();
    expectProblem(await send(`/users/${other}`, { method: 'PUT', json: { fio: 'X' }, token: me.token }), 403, 'permission_denied');
    expect(h.rpc.calls).toEqual([]);
    const admin = await caller('admin');
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { method: 'PUT', json: { fio: 'X' }, token: admin.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.update', { user_id: other, changes: { fio: 'X' } }, admin);
  });

  it('PUT /users/{id} validates like PATCH: unknown field, empty body, bad email → 422; malformed id → 404', async () => {
    const me = await caller();
    for (const json of [{ fio: 'X', nickname: 'x' }, {}, { email: 'nope' }])
      expectProblem(await send(`/users/${me.id}`, { method: 'PUT', json, token: me.token }), 422, 'invalid_argument');
    const admin = await caller('admin');
    expectProblem(await send('/users/not-an-id', { method: 'PUT', json: { fio: 'X' }, token: admin.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });
});
