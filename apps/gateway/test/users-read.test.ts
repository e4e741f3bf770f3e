/** Reading users: GET /users/me, GET /users/{id} and GET /users/{id}/history. */
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { expectProblem, MALFORMED_IDS, newUserId, requester, useGateway, userReply } from './support.js';
import { userCalls, type Caller } from './user-calls.js';

const h = useGateway();
const { send } = requester(() => h);
const { caller, services, expectCall } = userCalls(h);

describe('GET /users/me and GET /users/{id}', () => {
  it('/users/me asks for the caller', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me', { token: me.token });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(userReply(me.id));
    expectCall(a, 'users.get', { user_id: me.id }, me);
  });

  it('any signed-in user may read another user', async () => {
    const me = await caller();
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}`, { token: me.token });
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(other);
    expectCall(a, 'users.get', { user_id: other }, me);
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
    expectCall(a, 'users.history', { user_id: me.id }, me);
  });

  it("an admin reads anyone's history", async () => {
    const admin = await caller('admin');
    const other = newUserId();
    h.rpc.reply = services;
    const a = await send(`/users/${other}/history`, { token: admin.token });
    expect(a.status).toBe(200);
    expectCall(a, 'users.history', { user_id: other }, admin);
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
