import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { SmtpSink } from './smtp.js';

let sys: System;
let smtp: SmtpSink;
const ADMIN = { username: 'self_admin', email: 'self.admin@example.com', password: 'admin-password-self' };
let admin: { access_token: string; refresh_token: string; user: { id: string } };

beforeAll(async () => {
  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({
    mail: 1,
    env: { ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, SMTP_URL: smtpUrl, RELAY_POLL_MS: '200', PUBLIC_URL: 'http://public.example' },
  });
  admin = (await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } })).body;
});
afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
});

async function signUp(overrides: Record<string, unknown> = {}) {
  const input = newUser(overrides);
  const reg = await http(sys.url, 'POST', '/register', { body: input });
  expect(reg.status).toBe(201);
  const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
  return { input, user: reg.body, token: login.body.access_token as string, refresh: login.body.refresh_token as string };
}

describe('reading users', () => {
  it('GET /users/me is the caller; GET /users/{id} any user, for any authenticated caller', async () => {
    const a = await signUp();
    const b = await signUp();
    expect((await http(sys.url, 'GET', '/users/me')).status).toBe(401);
    expect((await http(sys.url, 'GET', '/users/me', { token: a.token })).body).toEqual(a.user);
    // with spec 003's registration_date (= created_at) beside our fields
    expect((await http(sys.url, 'GET', `/users/${b.user.id}`, { token: a.token })).body).toEqual({ ...b.user, registration_date: b.user.created_at });
    expect((await http(sys.url, 'GET', '/users/me', { token: a.token })).body.id).toBe(a.user.id);
    expect((await http(sys.url, 'GET', '/users/01900000-0000-7000-8000-000000000000', { token: a.token })).status).toBe(404);
    expect((await http(sys.url, 'GET', '/users/not-an-id', { token: a.token })).status).toBe(404);
  });
});

describe('PATCH /users/{id}', () => {
  it('changes own fields with the registration rules, 409 on taken names, 403 on others', async () => {
    const a = await signUp();
    const b = await signUp();
    const patched = await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { fio: 'New Name', tags: 'x, y' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: a.user.id, config: { fio: 'New Name', tags: ['x', 'y'], birthday: a.user.config.birthday } });
    expect(patched.body.updated_at > a.user.updated_at).toBe(true);

    const taken = await http(sys.url, 'PATCH', `/users/${a.user.id}`, { token: a.token, body: { username: b.input.username.toUpperCase() } });
    expect(taken.status).toBe(409);
    expect(taken.body.errors).toEqual([{ field: 'username', message: 'is already taken' }]);
    // b's address: the same answer as a free one (see below), nothing changes
    const takenEmail = await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { email: b.input.email } });
    expect(takenEmail.status).toBe(200);
    expect(takenEmail.body.email).toBe(a.input.email);
    const invalid = await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { username: 'abc', birthday: '2020-02-30' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['birthday', 'username']);
    expect((await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: {} })).status).toBe(422);
    expect((await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { role: 'admin' } })).status).toBe(422);
    expect((await http(sys.url, 'PATCH', `/users/${b.user.id}`, { token: a.token, body: { fio: 'Hacked' } })).status).toBe(403);
    expect((await http(sys.url, 'PATCH', `/users/${b.user.id}`, { body: { fio: 'Hacked' } })).status).toBe(401);
    expect((await http(sys.url, 'PATCH', '/users/01900000-0000-7000-8000-000000000000', { token: admin.access_token, body: { fio: 'X' } })).status).toBe(404);
    const byAdmin = await http(sys.url, 'PATCH', `/users/${b.user.id}`, { token: admin.access_token, body: { fio: 'Set By Admin' } });
    expect(byAdmin.body.config.fio).toBe('Set By Admin');
  });

  it("a new email of one's own takes effect from the link sent to it; the old address is told and can take it back, ending every session", async () => {
    const a = await signUp();
    await eventually(async () => smtp.to(a.input.email).length === 1, 15_000);
    const link = smtp.to(a.input.email)[0]!.link!.replace('http://public.example', '');
    expect((await http(sys.url, 'GET', link)).body).toEqual({ status: 'confirmed' });
    expect((await http(sys.url, 'GET', '/users/me', { token: a.token })).body.email_verified).toBe(true);

    const newEmail = `moved.${Date.now()}@example.com`;
    const moved = await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { email: newEmail } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ email: a.input.email, email_verified: true });
    await eventually(async () => smtp.to(newEmail).length === 1 && smtp.to(a.input.email).length === 2, 15_000);
    const notice = smtp.to(a.input.email)[1]!;
    expect(notice.subject).toBe('Your email address is about to change');
    const confirm = smtp.to(newEmail)[0]!;
    expect(confirm.subject).toBe('Confirm your new email address');
    const tokenIn = (text: string, path: string) => decodeURIComponent(new RegExp(`http://public\\.example${path}\\?token=([\\w%-]+)`).exec(text)![1]!);
    // Until confirmed, the new address is nobody's: a reset asked for by it sends nothing there.
    expect((await http(sys.url, 'POST', '/password/forgot', { body: { email: newEmail } })).status).toBe(202);
    expect((await http(sys.url, 'POST', '/email-change/confirm', { body: { token: tokenIn(confirm.text, '/email-change/confirm') } })).body).toEqual({ status: 'confirmed' });
    expect((await http(sys.url, 'GET', '/users/me', { token: a.token })).body).toMatchObject({ email: newEmail, email_verified: true });
    await eventually(async () => smtp.to(a.input.email).some((m) => m.subject === 'Your email address was changed'), 15_000);
    expect(smtp.to(newEmail).filter((m) => m.subject === 'Reset your password')).toEqual([]);

    // The owner was not the one who asked: the link in the notice takes the address back and ends every session.
    const cancelled = await http(sys.url, 'POST', '/email-change/cancel', { body: { token: tokenIn(notice.text, '/email-change/cancel') } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', sessions_ended: 1 });
    await eventually(async () => (await http(sys.url, 'GET', '/users/me', { token: a.token })).status === 401, 1000);
    expect((await http(sys.url, 'POST', '/refresh', { body: { refresh_token: a.refresh } })).status).toBe(401);
    const back = await http(sys.url, 'POST', '/login', { body: { username: a.input.username, password: a.input.password } });
    expect(back.body.user).toMatchObject({ email: a.input.email, email_verified: true });
  });

  it('an address another account holds is answered alike; its owner is told, nobody gets a link', async () => {
    const holder = await signUp();
    const a = await signUp();
    const res = await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { email: holder.input.email } });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe(a.input.email);
    await eventually(async () => smtp.to(holder.input.email).some((m) => m.subject === 'This email address already has an account'), 15_000);
    expect(smtp.to(a.input.email).some((m) => m.subject === 'Your email address is about to change')).toBe(false);
  });
});

describe('roles', () => {
  it('only admins set roles; the new role takes effect at the next refresh; the last admin stays', async () => {
    const a = await signUp();
    expect((await http(sys.url, 'PUT', `/users/${a.user.id}/role`, { token: a.token, body: { role: 'admin' } })).status).toBe(403);
    expect((await http(sys.url, 'PUT', `/users/${a.user.id}/role`, { token: admin.access_token, body: { role: 'boss' } })).status).toBe(422);
    const promoted = await http(sys.url, 'PUT', `/users/${a.user.id}/role`, { token: admin.access_token, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('admin');
    // The old token says "user": it is refused; a refresh gives a token with the new role.
    await eventually(async () => (await http(sys.url, 'GET', '/users/me', { token: a.token })).status === 401, 2000);
    const refreshed = await http(sys.url, 'POST', '/refresh', { body: { refresh_token: a.refresh } });
    expect(refreshed.status).toBe(200);
    const asAdmin = refreshed.body.access_token as string;
    expect((await http(sys.url, 'PUT', `/users/${admin.user.id}/role`, { token: asAdmin, body: { role: 'user' } })).status).toBe(200);

    // Now a is the only admin: cannot be demoted or deleted.
    const last = await http(sys.url, 'PUT', `/users/${a.user.id}/role`, { token: asAdmin, body: { role: 'user' } });
    expect(last.status).toBe(409);
    expect((await http(sys.url, 'DELETE', `/users/${a.user.id}`, { token: asAdmin })).status).toBe(409);
    expect((await http(sys.url, 'POST', `/user_delete/${a.user.id}`, { token: asAdmin })).status).toBe(409);
    // Restore the seeded admin for the other tests.
    expect((await http(sys.url, 'PUT', `/users/${admin.user.id}/role`, { token: asAdmin, body: { role: 'admin' } })).status).toBe(200);
    admin = (await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } })).body;
  });
});

describe('DELETE /users/{id}', () => {
  it('answers 204 for self or admin, 403 for others, 404 when gone', async () => {
    const a = await signUp();
    const b = await signUp();
    expect((await http(sys.url, 'DELETE', `/users/${b.user.id}`, { token: a.token })).status).toBe(403);
    const self = await http(sys.url, 'DELETE', '/users/me', { token: a.token });
    expect(self.status).toBe(204);
    expect(self.body).toBeUndefined();
    expect((await http(sys.url, 'DELETE', `/users/${b.user.id}`, { token: admin.access_token })).status).toBe(204);
    expect((await http(sys.url, 'DELETE', `/users/${b.user.id}`, { token: admin.access_token })).status).toBe(404);
  });
});

describe('GET /users/{id}/history', () => {
  it('shows events newest first with actor, request id and before/after values, never secrets', async () => {
    const a = await signUp({ fio: 'Before Fio', tags: ['one'] });
    const requestId = `hist-${Date.now()}`;
    await http(sys.url, 'PATCH', '/users/me', { token: a.token, body: { fio: 'After Fio', tags: ['one', 'two'] }, headers: { 'x-request-id': requestId } });
    await http(sys.url, 'PUT', '/users/me/password', { token: a.token, body: { current_password: a.input.password, new_password: 'another password 1' } });
    await http(sys.url, 'PATCH', `/users/${a.user.id}`, { token: admin.access_token, body: { birthday: '1980-02-29' } });

    const other = await signUp();
    expect((await http(sys.url, 'GET', `/users/${a.user.id}/history`, { token: other.token })).status).toBe(403);
    const history = await http(sys.url, 'GET', '/users/me/history', { token: a.token });
    expect(history.status).toBe(200);
    const types = history.body.map((e: { type: string }) => e.type);
    expect(types).toEqual(['UserProfileUpdated', 'PasswordChanged', 'UserProfileUpdated', 'UserRegistered']);
    const [byAdmin, password, mine, registered] = history.body;
    expect(byAdmin).toMatchObject({ actor_id: admin.user.id, changes: { birthday: { from: '1991-07-15', to: '1980-02-29' } } });
    expect(mine).toMatchObject({
      actor_id: a.user.id,
      request_id: requestId,
      changes: { fio: { from: 'Before Fio', to: 'After Fio' }, tags: { from: ['one'], to: ['one', 'two'] } },
    });
    expect(password.changes).toBeUndefined();
    expect(registered.changes).toMatchObject({ username: { from: null, to: a.input.username }, role: { from: null, to: 'user' } });
    expect(JSON.stringify(history.body)).not.toContain(a.input.password);
    expect(JSON.stringify(history.body)).not.toContain('another password 1');
    expect(JSON.stringify(history.body)).not.toMatch(/\$2[aby]\$/);

    expect((await http(sys.url, 'DELETE', `/users/${a.user.id}`, { token: admin.access_token })).status).toBe(204);
    const erased = await http(sys.url, 'GET', `/users/${a.user.id}/history`, { token: admin.access_token });
    expect(erased.status).toBe(200);
    expect(erased.body.map((e: { type: string }) => e.type)).toEqual(['UserDeleted']);
    expect(JSON.stringify(erased.body)).not.toContain('After Fio');
  });
});

describe('compatible endpoint shapes', () => {
  it("serves every alias with its target's validation, access rule and reply", async () => {
    const input = newUser();
    const reg = await http(sys.url, 'POST', '/register', { body: input });
    expect(reg.status).toBe(201);
    const login = await http(sys.url, 'POST', '/auth/login', { body: { username: input.username, password: input.password } });
    expect(login.status).toBe(200);
    const refreshed = await http(sys.url, 'POST', '/refresh_jwt', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.access_token;

    expect((await http(sys.url, 'GET', '/user')).status).toBe(401);
    expect((await http(sys.url, 'GET', '/user', { token })).body).toEqual(reg.body);
    // spec 003's PUT /users answers {data: user}
    const put = await http(sys.url, 'PUT', '/users', { token, body: { fio: 'Via PUT' } });
    expect(put.status).toBe(200);
    expect(put.body.data.config.fio).toBe('Via PUT');
    const putId = await http(sys.url, 'PUT', `/users/${reg.body.id}`, { token, body: { tags: ['via-put-id'] } });
    expect(putId.body.config).toMatchObject({ fio: 'Via PUT', tags: ['via-put-id'] });

    const created = await http(sys.url, 'POST', '/users', { token: admin.access_token, body: { ...newUser(), role: 'admin' } });
    expect(created.status).toBe(201);
    expect(created.body.role).toBe('admin');
    expect((await http(sys.url, 'POST', '/users', { token, body: newUser() })).status).toBe(403);
    expect((await http(sys.url, 'PUT', `/users/${created.body.id}`, { token, body: { fio: 'No' } })).status).toBe(403);

    expect((await http(sys.url, 'DELETE', '/users', { token })).status).toBe(204);
    expect((await http(sys.url, 'GET', '/user', { token })).status).toBe(401);
  });
});
