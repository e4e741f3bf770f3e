import { randomUUID } from 'node:crypto';
import { AppError } from '@um/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  expectNoContent,
  expectProblem,
  historyEntry,
  loginReply,
  loginRpcReply,
  newUserId,
  requester,
  signToken,
  startGateway,
  userReply,
  type Answer,
  type Harness,
} from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startGateway();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.rpc.reset();
  h.revocations.reset();
});

const { send, postJson } = requester(() => h);

interface Caller {
  id: number;
  sid: string;
  token: string;
}

async function caller(role: 'user' | 'admin' = 'user'): Promise<Caller> {
  const id = newUserId();
  const sid = randomUUID();
  return { id, sid, token: await signToken(h.key, { sub: String(id), sid, role }) };
}

const tokens = { access_token: 'new.access.token', token_type: 'bearer', expires_in: 900, refresh_token: 'next-refresh-token' };

/** Answers like the services would, echoing the user the call is about. */
function services(rpc: string, input: any): unknown {
  switch (rpc) {
    case 'users.get':
    case 'users.update':
    case 'users.delete':
      return userReply(input.user_id, input.changes?.fio ? { config: { fio: input.changes.fio, birthday: '1990-01-02', tags: [] } } : {});
    case 'users.set_role':
      return userReply(input.user_id, { role: input.role });
    case 'users.history':
      return [historyEntry(), historyEntry({ type: 'UserRegistered', version: 1, changes: undefined })];
    case 'users.register':
      return userReply(newUserId(), { role: input.role ?? 'user' });
    case 'auth.login':
      return loginRpcReply();
    case 'auth.refresh':
      return tokens;
    case 'auth.logout':
      return { sessions_ended: input.all ? 3 : 1 };
    case 'auth.change_password':
      return { status: 'changed', sessions_ended: 2 };
    case 'auth.jwks':
      return { keys: [h.key.jwk] };
    default:
      throw new Error(`unexpected rpc ${rpc}`);
  }
}

/** The one call the request made: its rpc, input, and the request's id and caller as meta. */
function expectCall(a: Answer, rpc: string, input: unknown, actor: number | null) {
  // The caller travels as the x-actor-id header: the id in decimal.
  const actorId = actor === null ? null : String(actor);
  // Writes carry an idempotency key (the client's, or one made for the request); reads none.
  const key = ['users.get', 'users.list', 'users.search', 'users.history', 'auth.jwks'].includes(rpc) ? {} : { idempotencyKey: expect.any(String) };
  expect(h.rpc.calls).toEqual([{ rpc, input, meta: { requestId: a.headers.get('x-request-id'), actorId, ...key } }]);
}

const fieldsOf = (a: Answer) => (a.body.errors as { field: string }[]).map((e) => e.field).sort();

/** Path ids that name no user: not a whole number from 1 to 2^53 - 1 in plain decimal. */
const MALFORMED_IDS = ['not-an-id', '0', '-1', '0123', '+12', '1.5', '1e3', '0x1f', randomUUID(), '9007199254740992', '99999999999999999999', "1'%20OR%20'1'='1"];

const registration = {
  username: 'carol_1',
  email: 'carol@example.com',
  password: 'correct horse battery',
  fio: 'Carol Example',
  birthday: '1991-02-03',
  tags: ['x'],
};

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

describe('POST /logout', () => {
  it("ends the caller's session, named by the token's sid: 204 with an empty body", async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/logout', { method: 'POST', token: me.token });
    expectNoContent(a);
    expectCall(a, 'auth.logout', { user_id: me.id, session_id: me.sid, all: false }, me.id);
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

describe('GET /users/me and GET /users/{id}', () => {
  it('/users/me asks for the caller', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me', { token: me.token });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(userReply(me.id));
    expectCall(a, 'users.get', { user_id: me.id }, me.id);
  });

  it('any signed-in user may read another user', async () => {
    const me = await caller();
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { token: me.token });
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(other);
    expectCall(a, 'users.get', { user_id: other }, me.id);
  });

  it('the largest id (2^53 - 1) is forwarded as that number, one more is 404', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(`/users/${Number.MAX_SAFE_INTEGER}`, { token: me.token });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ user_id: Number.MAX_SAFE_INTEGER });
    expectProblem(await send('/users/9007199254740992', { token: me.token }), 404, 'not_found');
  });

  it.each(MALFORMED_IDS)('a malformed id (%s) → 404, not forwarded', async (id) => {
    const me = await caller();
    const a = await send(`/users/${id}`, { token: me.token });
    expectProblem(a, 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('an unknown user → 404 from users-service', async () => {
    const me = await caller();
    h.rpc.reply = () => {
      throw new AppError('not_found', 'users.not_found', 'No such user');
    };
    const a = await send(`/users/${newUserId()}`, { token: me.token });
    expectProblem(a, 404, 'not_found');
    expect(a.body.detail).toBe('No such user');
  });

  it.each(['/users/me', `/users/${newUserId()}`, '/user'])('%s without a token → 401', async (path) => {
    expectProblem(await send(path), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });
});

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
    expectCall(a, 'users.update', { user_id: me.id, changes: normalised }, me.id);
  });

  it('`me` names the caller', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me', { method: 'PATCH', json: { email: ' new@example.com ' }, token: me.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.update', { user_id: me.id, changes: { email: 'new@example.com' } }, me.id);
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
    expectCall(a, 'users.update', { user_id: other, changes: { username: 'new_name' } }, admin.id);
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

describe('PUT /users/me/password', () => {
  const body = { current_password: 'old password 1', new_password: 'new password 2' };

  it('forwards both passwords with the caller and their session', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me/password', { method: 'PUT', json: body, token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toEqual({ status: 'changed', sessions_ended: 2 });
    expectCall(a, 'auth.change_password', { ...body, user_id: me.id, session_id: me.sid }, me.id);
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

describe('PUT /users/{id}/role', () => {
  it("an admin sets anyone's role", async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}/role`, { method: 'PUT', json: { role: 'admin' }, token: admin.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ id: other, role: 'admin' });
    expectCall(a, 'users.set_role', { user_id: other, role: 'admin' }, admin.id);
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
    expectCall(a, 'users.delete', { user_id: me.id }, me.id);
  });

  it('an admin deleting anyone → 204', async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { method: 'DELETE', token: admin.token });
    expectNoContent(a);
    expectCall(a, 'users.delete', { user_id: other }, admin.id);
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

describe('GET /users/{id}/history', () => {
  it.each([
    ['their own id', (me: Caller) => String(me.id)],
    ['`me`', () => 'me'],
  ])('a user reading their own history by %s', async (_label, target) => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(`/users/${target(me)}/history`, { token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toHaveLength(2);
    expect(a.body[0].changes).toEqual({ fio: { from: 'Alice Example', to: 'Alice B. Example' } });
    expectCall(a, 'users.history', { user_id: me.id }, me.id);
  });

  it("an admin reads anyone's history", async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}/history`, { token: admin.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.history', { user_id: other }, admin.id);
  });

  it("a user reading someone else's history → 403, not forwarded", async () => {
    const me = await caller();
    expectProblem(await send(`/users/${newUserId()}/history`, { token: me.token }), 403, 'permission_denied');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a malformed id → 404 for an admin', async () => {
    const admin = await caller('admin');
    expectProblem(await send('/users/nope/history', { token: admin.token }), 404, 'not_found');
  });

  it('without a token → 401', async () => {
    expectProblem(await send(`/users/${newUserId()}/history`), 401, 'unauthenticated');
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
    expectCall(a, 'users.register', { ...registration, role: 'admin', attributes: {} }, admin.id);
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
    expectCall(a, 'users.get', { user_id: me.id }, me.id);
  });

  it('PUT /users updates the caller: {user_id: caller, changes}', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users', { method: 'PUT', json: { fio: ' New Name ' }, token: me.token });
    expect(a.status, a.text).toBe(200);
    expectCall(a, 'users.update', { user_id: me.id, changes: { fio: 'New Name' } }, me.id);
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
    expectCall(a, 'users.delete', { user_id: me.id }, me.id);
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
    expectCall(a, 'users.update', { user_id: other, changes: { fio: 'X' } }, admin.id);
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

describe('self routes and ids written otherwise', () => {
  it.each([
    ['PATCH', (id: string) => `/users/${id}`, { fio: 'X' }, 200],
    ['PUT', (id: string) => `/users/${id}`, { fio: 'X' }, 200],
    ['DELETE', (id: string) => `/users/${id}`, undefined, 204],
    ['GET', (id: string) => `/users/${id}/history`, undefined, 200],
    ['POST', (id: string) => `/user_delete/${id}`, undefined, 200],
  ] as const)("%s %s with the caller's id is allowed and forwarded as the number; with a leading zero it names nothing", async (method, path, json, ok) => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(path(String(me.id)), { method, ...(json ? { json } : {}), token: me.token });
    expect(a.status, a.text).toBe(ok);
    expect((h.rpc.calls[0]!.input as { user_id: number }).user_id).toBe(me.id);
    h.rpc.reset();
    expectProblem(await send(path(`0${me.id}`), { method, ...(json ? { json } : {}), token: me.token }), 404, 'not_found');
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
