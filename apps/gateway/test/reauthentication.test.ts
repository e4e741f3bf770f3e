/**
 * What hands over the account (one's own new email, a second factor, one's own deletion) asks
 * auth-service first whether the caller is present: a recent sign-in of the session, or the current
 * password in the request. A stolen access token alone gets a 401 that says what to do.
 */
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { replyByRpc } from './route-requests.js';
import { expectProblem, newUserId, requester, useGateway } from './support.js';
import { userCalls, type Caller } from './user-calls.js';

const h = useGateway();
const { send } = requester(() => h);
const { caller, services } = userCalls(h);

const refuse = () => {
  h.rpc.reauthentication = () => {
    throw new AppError('unauthenticated', 'auth.reauthentication_required', 'Send your current password (current_password), or log in again');
  };
};

const presenceAsked = (me: Caller, currentPassword?: string) =>
  expect(h.rpc.reauthentications.map((c) => c.input)).toEqual([
    { user_id: me.id, session_id: me.sid, ...(currentPassword === undefined ? {} : { current_password: currentPassword }) },
  ]);

describe('reauthentication', () => {
  it('changing your own email asks with the current password, which is not forwarded as a change', async () => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send('/users/me', { method: 'PATCH', json: { email: 'new@example.com', current_password: 'my password 1' }, token: me.token });
    expect(a.status, a.text).toBe(200);
    presenceAsked(me, 'my password 1');
    expect(h.rpc.calls.map((c) => c.input)).toEqual([{ user_id: me.id, changes: { email: 'new@example.com' } }]);
  });

  it('a refused presence check is the 401 and nothing is changed', async () => {
    const me = await caller();
    h.rpc.reply = services;
    refuse();
    const a = await send(`/users/${me.id}`, { method: 'PATCH', json: { email: 'attacker@example.com' }, token: me.token });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.body.detail).toMatch(/current password|log in again/);
    expect(h.rpc.calls).toEqual([]);
  });

  it('other profile fields, and an admin changing someone else, ask nothing', async () => {
    const me = await caller();
    h.rpc.reply = services;
    expect((await send('/users/me', { method: 'PATCH', json: { fio: 'X' }, token: me.token })).status).toBe(200);
    const admin = await caller('admin');
    expect((await send(`/users/${newUserId()}`, { method: 'PATCH', json: { email: 'x@example.com' }, token: admin.token })).status).toBe(200);
    expect(h.rpc.reauthentications).toEqual([]);
  });

  it("spec 003's PUT /users with an email asks; with a password, the password change checks (current_password passed on)", async () => {
    const me = await caller();
    h.rpc.reply = services;
    refuse();
    expectProblem(await send('/users', { method: 'PUT', json: { email: 'new@example.com' }, token: me.token }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
    h.rpc.reset();
    h.rpc.reply = services;
    h.rpc.reply = (rpc, input) => (rpc === 'auth.change_password' ? { status: 'changed', sessions_ended: 0 } : services(rpc, input));
    const a = await send('/users', { method: 'PUT', json: { password: 'a new password 2', current_password: 'old password 1', fio: 'X' }, token: me.token });
    expect(a.status, a.text).toBe(200);
    expect(h.rpc.reauthentications).toEqual([]);
    expect(h.rpc.calls[0]).toMatchObject({
      rpc: 'auth.change_password',
      input: { new_password: 'a new password 2', current_password: 'old password 1', user_id: me.id, session_id: me.sid },
    });
  });

  it('starting and confirming a TOTP enrolment ask; refused, nothing is forwarded', async () => {
    const me = await caller();
    h.rpc.reply = replyByRpc;
    expect((await send('/users/me/mfa/totp', { method: 'POST', token: me.token })).status).toBe(200);
    presenceAsked(me);
    h.rpc.reset();
    h.rpc.reply = replyByRpc;
    expect((await send('/users/me/mfa/totp/confirm', { method: 'POST', json: { code: '123456', current_password: 'pw' }, token: me.token })).status).toBe(200);
    presenceAsked(me, 'pw');
    expect(h.rpc.calls.map((c) => c.input)).toEqual([{ user_id: me.id, code: '123456' }]);
    h.rpc.reset();
    refuse();
    expectProblem(await send('/users/me/mfa/totp', { method: 'POST', token: me.token }), 401, 'unauthenticated');
    expectProblem(await send('/users/me/mfa/totp/confirm', { method: 'POST', json: { code: '123456' }, token: me.token }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
  });

  it('deleting yourself asks (every form of it); an admin deleting someone else does not', async () => {
    const me = await caller();
    refuse();
    for (const [method, path] of [
      ['DELETE', '/users/me'],
      ['DELETE', `/users/${me.id}`],
      ['DELETE', '/users'],
      ['POST', `/user_delete/${me.id}`],
    ] as const)
      expectProblem(await send(path, { method, token: me.token }), 401, 'unauthenticated');
    expect(h.rpc.calls).toEqual([]);
    h.rpc.reset();
    h.rpc.reply = services;
    const a = await send('/users/me', { method: 'DELETE', json: { current_password: 'pw' }, token: me.token });
    expect(a.status, a.text).toBe(204);
    presenceAsked(me, 'pw');
    h.rpc.reset();
    h.rpc.reply = services;
    const admin = await caller('admin');
    expect((await send(`/users/${newUserId()}`, { method: 'DELETE', token: admin.token })).status).toBe(204);
    expect(h.rpc.reauthentications).toEqual([]);
  });
});

describe('address change links', () => {
  it('POST /email-change/confirm and /cancel forward the token (JSON or a form) and answer no-store', async () => {
    h.rpc.reply = (rpc) => (rpc === 'users.confirm_email_change' ? { status: 'confirmed' } : { status: 'cancelled', sessions_ended: 3 });
    const confirmed = await send('/email-change/confirm', { method: 'POST', json: { token: 'abc' } });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toEqual({ status: 'confirmed' });
    expect(confirmed.headers.get('cache-control')).toBe('no-store');
    const cancelled = await send('/email-change/cancel', { method: 'POST', body: 'token=def', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toEqual({ status: 'cancelled', sessions_ended: 3 });
    expect(h.rpc.calls.map((c) => [c.rpc, c.input])).toEqual([
      ['users.confirm_email_change', { token: 'abc' }],
      ['auth.cancel_email_change', { token: 'def' }],
    ]);
  });
});
