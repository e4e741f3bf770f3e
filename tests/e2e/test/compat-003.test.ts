import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

/**
 * Spec 003 (shared/seeds/003), as its client calls it: PUT /users `{password, email}` answering
 * `{data: {username, email, registration_date}}`, DELETE /users (204), GET /users/{id} and
 * GET /users with `registration_date`. A password or email change needs a recent login (REAUTH_WINDOW)
 * or the current password; a new email takes effect once confirmed from the link sent to it.
 */
const WINDOW_S = 3;
let sys: System;

beforeAll(async () => {
  sys = await System.start({ env: { REAUTH_WINDOW: `${WINDOW_S}s` } });
});
afterAll(() => sys?.stop());

async function signUp() {
  const input = newUser();
  const reg = await http(sys.url, 'POST', '/register', { body: input });
  expect(reg.status).toBe(201);
  return { input, id: reg.body.id as unknown, token: await login(input.username, input.password) };
}
async function login(username: string, password: string) {
  const a = await http(sys.url, 'POST', '/login', { body: { username, password } });
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return a.body.access_token as string;
}

describe('spec 003 client', () => {
  it('PUT /users {password, email} right after logging in changes the password and asks for the email (kept until confirmed); answers {data: {username, email, registration_date}}', async () => {
    const u = await signUp();
    const email = `new.${u.input.email}`;
    const a = await http(sys.url, 'PUT', '/users', { token: u.token, body: { password: 'a brand new secret', email } });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.data).toMatchObject({ username: u.input.username, email: u.input.email });
    expect(new Date(a.body.data.registration_date).getTime()).not.toBeNaN();
    expect((await http(sys.url, 'POST', '/login', { body: { username: u.input.username, password: u.input.password } })).status).toBe(401);
    await login(u.input.email, 'a brand new secret');
  });

  it('PUT /users with a password from a session older than REAUTH_WINDOW → 401 saying to log in again; nothing changes', async () => {
    const u = await signUp();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000 + 500));
    const a = await http(sys.url, 'PUT', '/users', { token: u.token, body: { password: 'a brand new secret', email: `late.${u.input.email}` } });
    expect(a.status).toBe(401);
    expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(a.body.detail).toMatch(/log in again/);
    await login(u.input.username, u.input.password);
    expect((await http(sys.url, 'GET', '/user', { token: u.token })).body.email).toBe(u.input.email);
    // a stolen token of an old session cannot ask for a new email, enrol a second factor or delete
    // the account: each 401 says what to do
    for (const [method, path, body] of [
      ['PUT', '/users', { email: `late.${u.input.email}` }],
      ['PATCH', '/users/me', { email: `late.${u.input.email}` }],
      ['POST', '/users/me/mfa/totp', undefined],
      ['DELETE', '/users', undefined],
    ] as const) {
      const refused = await http(sys.url, method, path, { token: u.token, ...(body ? { body } : {}) });
      expect(refused.status, `${method} ${path}`).toBe(401);
      expect(refused.body.detail).toMatch(/current password|log in again/);
    }
    // a wrong current password is no way around it either; the right one is
    expect((await http(sys.url, 'PUT', '/users', { token: u.token, body: { email: `late.${u.input.email}`, current_password: 'not my password' } })).status).toBe(422);
    const b = await http(sys.url, 'PUT', '/users', { token: u.token, body: { email: `late.${u.input.email}`, current_password: u.input.password } });
    expect(b.status).toBe(200);
    expect(b.body.data.email).toBe(u.input.email);
  });

  it('PUT /users refuses a weak password and an invalid email (422), and 401 without a token', async () => {
    const u = await signUp();
    expect((await http(sys.url, 'PUT', '/users', { token: u.token, body: { password: 'short' } })).status).toBe(422);
    expect((await http(sys.url, 'PUT', '/users', { token: u.token, body: { email: 'example.com' } })).status).toBe(422);
    expect((await http(sys.url, 'PUT', '/users', { body: { email: 'a@example.com' } })).status).toBe(401);
  });

  it('GET /users/{id} answers the user with registration_date; GET /users the list', async () => {
    const u = await signUp();
    const a = await http(sys.url, 'GET', `/users/${String(u.id)}`, { token: u.token });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ username: u.input.username, email: u.input.email, registration_date: a.body.created_at });
    expect((await http(sys.url, 'GET', '/users/00000000-0000-7000-8000-000000000000', { token: u.token })).status).toBe(404);
    const list = await http(sys.url, 'GET', '/users', { token: u.token });
    expect(list.status).toBe(200);
    expect(list.body.some((x: { username: string }) => x.username === u.input.username)).toBe(true);
  });

  it('DELETE /users deletes the caller: 204, then the token is refused', async () => {
    const u = await signUp();
    expect((await http(sys.url, 'DELETE', '/users', { token: u.token })).status).toBe(204);
    expect((await http(sys.url, 'GET', '/user', { token: u.token })).status).toBe(401);
    expect((await http(sys.url, 'POST', '/login', { body: { username: u.input.username, password: u.input.password } })).status).toBe(401);
  });
});
