import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

let sys: System;
const ADMIN = { username: 'dir_admin', email: 'dir.admin@example.com', password: 'admin-password-dir' };

beforeAll(async () => {
  sys = await System.start({ env: { USER_DIRECTORY_FIELDS: 'public', ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
});
afterAll(async () => {
  await sys?.stop();
});

async function signUp() {
  const input = newUser();
  const reg = await http(sys.url, 'POST', '/register', { body: input });
  expect(reg.status).toBe(201);
  const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
  return { input, user: reg.body, token: login.body.access_token as string };
}

describe('USER_DIRECTORY_FIELDS=public', () => {
  it('users see each other without email and birthday, themselves and (as admins) everyone in full', async () => {
    const a = await signUp();
    const b = await signUp();
    const { email: _email, config, ...rest } = b.user;
    const bPublic = { ...rest, config: { fio: config.fio, tags: config.tags } };

    // GET /users/{id} also carries spec 003's registration_date (= created_at)
    const other = await http(sys.url, 'GET', `/users/${b.user.id}`, { token: a.token });
    expect(other.body).toEqual({ ...bPublic, registration_date: b.user.created_at });
    const byFio = await http(sys.url, 'GET', `/users/search?fio=${encodeURIComponent(b.input.fio)}`, { token: a.token });
    expect(byFio.body).toEqual([bPublic]);
    const page = await http(sys.url, 'GET', '/users?limit=1000', { token: a.token });
    expect(page.body.find((u: { id: string }) => u.id === b.user.id)).toEqual(bPublic);
    expect(page.body.find((u: { id: string }) => u.id === a.user.id)).toEqual(a.user);
    expect(JSON.stringify(page.body)).not.toContain(b.input.email);

    expect((await http(sys.url, 'GET', '/users/me', { token: a.token })).body).toEqual(a.user);
    const byEmail = await http(sys.url, 'GET', `/users/search?email=${encodeURIComponent(b.input.email)}`, { token: a.token });
    expect(byEmail.status).toBe(403);
    expect(byEmail.body.detail).toMatch(/admins/);

    const admin = (await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } })).body.access_token as string;
    expect((await http(sys.url, 'GET', `/users/${b.user.id}`, { token: admin })).body).toEqual({ ...b.user, registration_date: b.user.created_at });
    expect((await http(sys.url, 'GET', `/users/search?email=${encodeURIComponent(b.input.email)}`, { token: admin })).body).toEqual([b.user]);
  });
});
