/** Writing users: PATCH /users/{id}, PUT /users/{id}/role, DELETE /users/{id}, POST /users (admins create users). */
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { expectNoContent, expectProblem, fieldsOf, MALFORMED_IDS, newUserId, requester, useGateway } from './support.js';
import { registration, userCalls, type Caller } from './user-calls.js';

const h = useGateway();
const { send, postJson } = requester(() => h);
const { caller, services, expectCall } = userCalls(h);

describe('PATCH /users/{id}', () => {
  const changes = { fio: '  Alice B. Example ', tags: ' b, a,b ' };
  const normalised = { fio: 'Alice B. Example', tags: ['b', 'a'] };

  it('a user changing themselves: forwards {user_id, changes} with the changes validated and normalised', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: changes, token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body.id).toBe(me.id);
    expect(a.body.config.fio).toBe('Alice B. Example');
    expectCall(a, 'users.update', { user_id: me.id, changes: normalised }, me);
  });

  it('`me` names the caller', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me', { method: 'PATCH', json: { email: ' new@example.com ' }, token: me.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.update', { user_id: me.id, changes: { email: 'new@example.com' } }, me);
  });

  it("the caller's own id written with a leading zero or a sign names nobody: 404, not forwarded", async () => {
    const me = await caller();
    h.rpc.reply = services;
    for (const written of [`0${me.id}`, `+${me.id}`, `${me.id}.0`])
      expectProblem(await send(`/users/${written}`, { method: 'PATCH', json: { fio: 'X' }, token: me.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a user changing someone else → 403, not forwarded', async () => {
    const me = await caller();
    const a = await send(`/users/${newUserId()}`, { method: 'PATCH', json: { fio: 'X' }, token: me.token });
    expectProblem(a, 403, 'permission_denied');
    expect(h.rpc.calls).toEqual([]);
  });

  it('an admin changing anyone is forwarded for that user', async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { method: 'PATCH', json: { username: 'new_name' }, token: admin.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.update', { user_id: other, changes: { username: 'new_name' } }, admin);
  });

  it('`me` for an admin is the admin, not anyone else', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    await send('/users/me', { method: 'PATCH', json: { fio: 'X' }, token: admin.token });
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: admin.id, changes: { fio: 'X' } });
  });

  it.each([
    ['an unknown field', { fio: 'X', nickname: 'x' }, ['nickname']],
    ['a role (not changeable here)', { role: 'admin' }, ['(body)', 'role']],
    ['a password (not changeable here)', { password: 'new password 1' }, ['(body)', 'password']],
    ['an empty body', {}, ['(body)']],
    ['an invalid email', { email: 'not-an-email' }, ['email']],
    ['a too short username', { username: 'abc' }, ['username']],
    ['an impossible birthday', { birthday: '2020-02-30' }, ['birthday']],
    ['an empty fio', { fio: '   ' }, ['fio']],
    ['a null field', { fio: null }, ['fio']],
  ])('%s → 422, not forwarded', async (_label, body, fields) => {
    const me = await caller();
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: body, token: me.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(fieldsOf(a)).toEqual(fields);
    expect(h.rpc.calls).toEqual([]);
  });

  it('an invalid email is reported as such', async () => {
    const me = await caller();
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: { email: 'not-an-email' }, token: me.token });
    expect(a.body.errors).toEqual([{ field: 'email', message: 'must be a valid email address' }]);
  });

  it('unknown fields are each named, with a detail that says so', async () => {
    const me = await caller();
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: { fio: 'X', nickname: 'x', shoe_size: 42 }, token: me.token });
    expect(a.body.errors).toEqual([
      { field: 'nickname', message: 'is not a known field' },
      { field: 'shoe_size', message: 'is not a known field' },
    ]);
    expect(a.body.detail).toBe('Invalid input: nickname is not a known field; shoe_size is not a known field');
  });

  it('an empty body says what may be changed', async () => {
    const me = await caller();
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: {}, token: me.token });
    expect(a.body.errors).toEqual([{ field: '(body)', message: 'must change at least one of username, email, fio, birthday, tags' }]);
  });

  it('no body at all → 415', async () => {
    const me = await caller();
    expectProblem(await send(`/users/${me.id}`, { method: 'PATCH', token: me.token }), 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a user may not touch someone else even with an invalid body: 403 before 422', async () => {
    const me = await caller();
    expectProblem(await send(`/users/${newUserId()}`, { method: 'PATCH', json: {}, token: me.token }), 403);
  });

  it.each(MALFORMED_IDS)('a malformed id (%s) → 404 for an admin and for a user alike', async (id) => {
    const admin = await caller('admin');
    expectProblem(await send(`/users/${id}`, { method: 'PATCH', json: { fio: 'X' }, token: admin.token }), 404, 'not_found');
    const me = await caller();
    expectProblem(await send(`/users/${id}`, { method: 'PATCH', json: { fio: 'X' }, token: me.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a taken username → 409 from users-service', async () => {
    const me = await caller();
    h.rpc.reply = () => {
      throw new AppError('already_exists', 'users.username_taken', 'The username is taken');
    };
    expectProblem(await send('/users/me', { method: 'PATCH', json: { username: 'taken_1' }, token: me.token }), 409, 'already_exists');
  });
});

describe('PUT /users/{id}/role', () => {
  it("an admin sets anyone's role", async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}/role`, { method: 'PUT', json: { role: 'admin' }, token: admin.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ id: other, role: 'admin' });
    expectCall(a, 'users.set_role', { user_id: other, role: 'admin' }, admin);
  });

  it('`me` works for an admin (users-service keeps the last admin)', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    await send('/users/me/role', { method: 'PUT', json: { role: 'user' }, token: admin.token });
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: admin.id, role: 'user' });
  });

  it.each([
    ['their own', (me: Caller) => me.id],
    ['`me`', () => 'me'],
    ["someone else's", () => newUserId()],
  ])('a user setting %s role → 403, not forwarded', async (_label, target) => {
    const me = await caller();
    const a = await send(`/users/${target(me)}/role`, { method: 'PUT', json: { role: 'admin' }, token: me.token });
    expectProblem(a, 403, 'permission_denied');
    expect(h.rpc.calls).toEqual([]);
  });

  it.each([
    ['{role: "boss"}', { role: 'boss' }],
    ['{role: "Admin"}', { role: 'Admin' }],
    ['no role', {}],
  ])('%s → 422, not forwarded', async (_label, json) => {
    const admin = await caller('admin');
    const a = await send(`/users/${newUserId()}/role`, { method: 'PUT', json, token: admin.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(fieldsOf(a)).toEqual(['role']);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a user is refused before the body is looked at: 403, not 422', async () => {
    const me = await caller();
    expectProblem(await send(`/users/${newUserId()}/role`, { method: 'PUT', json: { role: 'boss' }, token: me.token }), 403);
  });

  it('a malformed id → 404 for an admin', async () => {
    const admin = await caller('admin');
    expectProblem(await send('/users/not-a-uuid/role', { method: 'PUT', json: { role: 'user' }, token: admin.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });
});

describe('DELETE /users/{id}', () => {
  it.each([
    ['their own id', (me: Caller) => String(me.id)],
    ['`me`', () => 'me'],
  ])('a user deleting themselves by %s → 204 with an empty body', async (_label, target) => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(`/users/${target(me)}`, { method: 'DELETE', token: me.token });
    expectNoContent(a);
    expectCall(a, 'users.delete', { user_id: me.id }, me);
  });

  it('an admin deleting anyone → 204', async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { method: 'DELETE', token: admin.token });
    expectNoContent(a);
    expectCall(a, 'users.delete', { user_id: other }, admin);
  });

  it('a user deleting someone else → 403, not forwarded', async () => {
    const me = await caller();
    const a = await send(`/users/${newUserId()}`, { method: 'DELETE', token: me.token });
    expectProblem(a, 403, 'permission_denied');
    expect(h.rpc.calls).toEqual([]);
  });

  it('an unknown user → 404, with a problem body', async () => {
    const admin = await caller('admin');
    h.rpc.reply = () => {
      throw new AppError('not_found', 'users.not_found', 'No such user');
    };
    expectProblem(await send(`/users/${newUserId()}`, { method: 'DELETE', token: admin.token }), 404, 'not_found');
  });

  it.each(MALFORMED_IDS)('a malformed id (%s) → 404 for an admin', async (id) => {
    const admin = await caller('admin');
    expectProblem(await send(`/users/${id}`, { method: 'DELETE', token: admin.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('without a token → 401', async () => {
    expectProblem(await send(`/users/${newUserId()}`, { method: 'DELETE' }), 401, 'unauthenticated');
  });
});

describe('POST /users (admins create users)', () => {
  it('an admin creates a user with a chosen role: 201', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    const a = await postJson('/users', { ...registration, role: 'admin', username: ' carol_1 ' }, { token: admin.token });
    expect(a.status, a.text).toBe(201);
    expect(a.body.role).toBe('admin');
    // no client address: the registration rate limit is for self-registration
    expectCall(a, 'users.register', { ...registration, role: 'admin', attributes: {} }, admin);
  });

  it('the role defaults to user', async () => {
    const admin = await caller('admin');
    h.rpc.reply = services;
    const a = await postJson('/users', registration, { token: admin.token });
    expect(a.status).toBe(201);
    expect(h.rpc.calls[0]!.input).toEqual({ ...registration, role: 'user', attributes: {} });
  });

  it('a user → 403, not forwarded, whatever the role asked for', async () => {
    const me = await caller();
    for (const role of ['user', 'admin', undefined]) {
      const a = await postJson('/users', { ...registration, role }, { token: me.token });
      expectProblem(a, 403, 'permission_denied');
    }
    expect(h.rpc.calls).toEqual([]);
  });

  it('without a token → 401', async () => {
    expectProblem(await postJson('/users', registration), 401, 'unauthenticated');
  });

  it.each([
    ['an unknown role', { ...registration, role: 'boss' }, ['role']],
    ['an invalid email', { ...registration, email: 'nope' }, ['email']],
    ['a short password', { ...registration, password: '1234567' }, ['password']],
    // username is derived from the email, fio and birthday may be left out (spec 004 sends neither)
    ['missing fields', { role: 'user' }, ['email', 'password']],
  ])('%s → 422, not forwarded', async (_label, body, fields) => {
    const admin = await caller('admin');
    const a = await postJson('/users', body, { token: admin.token });
    expectProblem(a, 422, 'invalid_argument');
    expect(fieldsOf(a)).toEqual(fields);
    expect(h.rpc.calls).toEqual([]);
  });
});
