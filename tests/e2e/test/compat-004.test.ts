import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, System } from './harness.js';

/**
 * Spec 004 (shared/seeds/004), as its client calls it, with the example profile schema (which
 * declares `first_name` and `last_name`). Spec 004 has no authentication at all; here its CRUD is
 * for admins (a deliberate security difference, see the README), so the client sends an admin's token.
 */
const EXAMPLE = fileURLToPath(new URL('../../../deploy/profile/example.json', import.meta.url));
const ADMIN = { username: 'compat004_admin', email: 'compat004.admin@example.com', password: 'admin-password-004' };
let sys: System;
let admin = '';

beforeAll(async () => {
  sys = await System.start({ env: { PROFILE_SCHEMA: EXAMPLE, ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  admin = (await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } })).body.access_token;
});
afterAll(() => sys?.stop());

const stamp = Date.now().toString(36);
const person = { first_name: 'Mikhail', last_name: 'Petrov', email: `mikhail.${stamp}@example.com`, password: 'securepassword 004' };

/** The user model of spec 004: id, first_name, last_name, email, created_at, updated_at. */
function expectUser(u: Record<string, unknown>, expected: Record<string, unknown>) {
  expect(u).toMatchObject(expected);
  expect(Number.isSafeInteger(u.id) && (u.id as number) > 0).toBe(true);
  expect(new Date(u.created_at as string).getTime()).not.toBeNaN();
  expect(new Date(u.updated_at as string).getTime()).not.toBeNaN();
  expect(u).not.toHaveProperty('password');
  expect(u).not.toHaveProperty('salt');
}

describe('spec 004 client (PROFILE_SCHEMA=deploy/profile/example.json, as an admin)', () => {
  let id: unknown;

  it('POST /users/ {first_name, last_name, email, password} → 201 user', async () => {
    const a = await http(sys.url, 'POST', '/users/', { token: admin, body: person });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expectUser(a.body, { first_name: person.first_name, last_name: person.last_name, email: person.email });
    id = a.body.id;
    expect((await http(sys.url, 'POST', '/users/', { token: admin, body: person })).status).toBe(409);
    const bad = await http(sys.url, 'POST', '/users/', { token: admin, body: { ...person, email: 'nope' } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual(expect.any(String));
  });

  it('GET /users/{user_id} → the user; an unknown id → 404 with a detail', async () => {
    const a = await http(sys.url, 'GET', `/users/${String(id)}`, { token: admin });
    expect(a.status).toBe(200);
    expectUser(a.body, { first_name: person.first_name, last_name: person.last_name, email: person.email });
    const none = await http(sys.url, 'GET', '/users/00000000-0000-7000-8000-000000000000', { token: admin });
    expect(none.status).toBe(404);
    expect(none.body.detail).toEqual(expect.any(String));
  });

  it('PUT /users/{user_id} with any of first_name, last_name, email → the updated user', async () => {
    const a = await http(sys.url, 'PUT', `/users/${String(id)}`, { token: admin, body: { first_name: 'Misha', email: `misha.${stamp}@example.com` } });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expectUser(a.body, { first_name: 'Misha', last_name: person.last_name, email: `misha.${stamp}@example.com` });
    expect(a.body.updated_at >= a.body.created_at).toBe(true);
    // setting another user's password is not an admin's job here: refused by name
    const pw = await http(sys.url, 'PUT', `/users/${String(id)}`, { token: admin, body: { password: 'newsecurepassword' } });
    expect(pw.status).toBe(422);
  });

  it('GET /users/ → every user, as an array', async () => {
    const a = await http(sys.url, 'GET', '/users/', { token: admin });
    expect(a.status).toBe(200);
    expect(a.body.map((u: { id: unknown }) => u.id)).toContainEqual(id);
  });

  it('DELETE /users/{user_id} → 204, then 404', async () => {
    expect((await http(sys.url, 'DELETE', `/users/${String(id)}`, { token: admin })).status).toBe(204);
    expect((await http(sys.url, 'GET', `/users/${String(id)}`, { token: admin })).status).toBe(404);
    expect((await http(sys.url, 'DELETE', `/users/${String(id)}`, { token: admin })).status).toBe(404);
  });

  it('without a token (as spec 004 sends it) every call is 401: the documented security difference', async () => {
    for (const [method, path] of [
      ['POST', '/users/'],
      ['GET', '/users/'],
      ['GET', `/users/${String(id)}`],
      ['PUT', `/users/${String(id)}`],
      ['DELETE', `/users/${String(id)}`],
    ] as const) {
      const a = await http(sys.url, method, path, method === 'POST' || method === 'PUT' ? { body: person } : {});
      expect(a.status, `${method} ${path}`).toBe(401);
    }
  });
});
