import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, System } from './harness.js';

/**
 * Spec 001 (shared/seeds/001), as its client calls it: `POST /auth/register` with
 * `{name, phone, email, password, image_url}`, `POST /auth/login` with `{email, password}` answering
 * `{access_token, token_type, expires_in, user}`. It needs the example profile schema, which declares
 * `phone` and `image_url`.
 */
const EXAMPLE = fileURLToPath(new URL('../../../deploy/profile/example.json', import.meta.url));
let sys: System;

beforeAll(async () => {
  sys = await System.start({ env: { PROFILE_SCHEMA: EXAMPLE } });
});
afterAll(() => sys?.stop());

const stamp = Date.now().toString(36);
const reader = { name: 'Roman Yashin', phone: '+79024127523', email: `Roman.Y+${stamp}@example.com`, password: 'backnd-api secret', image_url: 'https://img.example/roman.png' };

/** UserRead of spec 001: id, name, phone, image_url, email, created_at, updated_at. */
function expectUserRead(u: Record<string, unknown>, expected: { name: string; phone: string; email: string; image_url: string | null }) {
  expect(u).toMatchObject(expected);
  expect(Number.isSafeInteger(u.id) && (u.id as number) > 0).toBe(true);
  expect(new Date(u.created_at as string).getTime()).not.toBeNaN();
  expect(new Date(u.updated_at as string).getTime()).not.toBeNaN();
  expect(u).not.toHaveProperty('password');
  expect(u).not.toHaveProperty('password_hash');
}

describe('spec 001 client (PROFILE_SCHEMA=deploy/profile/example.json)', () => {
  let id: unknown;

  it('POST /auth/register {name, phone, email, password, image_url} → 201 UserRead; the username is derived from the email', async () => {
    const a = await http(sys.url, 'POST', '/auth/register', { body: reader });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expectUserRead(a.body, { name: reader.name, phone: reader.phone, email: reader.email, image_url: reader.image_url });
    // The documented rule: the local part, lower case, other characters than letters, digits, _ . - as "_".
    expect(a.body.username).toBe(`roman.y_${stamp}`);
    id = a.body.id;
  });

  it('image_url is optional; a second account with the same local part gets the next derived name', async () => {
    const a = await http(sys.url, 'POST', '/auth/register', { body: { ...reader, image_url: undefined, email: `roman.y+${stamp}@other.example` } });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expectUserRead(a.body, { name: reader.name, phone: reader.phone, email: `roman.y+${stamp}@other.example`, image_url: null });
    expect(a.body.username).toBe(`roman.y_${stamp}_2`);
  });

  it('refuses a taken email (409), a bad phone or URL (422, naming the field), and a missing name', async () => {
    expect((await http(sys.url, 'POST', '/auth/register', { body: reader })).status).toBe(409);
    const bad = await http(sys.url, 'POST', '/auth/register', { body: { ...reader, email: `b.${stamp}@example.com`, phone: 'call me', image_url: 'ftp://x' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['image_url', 'phone']);
    const { name: _name, ...noName } = reader;
    const missing = await http(sys.url, 'POST', '/auth/register', { body: { ...noName, email: `c.${stamp}@example.com` } });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ field: 'name', message: 'is required' }]);
  });

  it('POST /auth/login {email, password} → Token: access_token, token_type, expires_in, user', async () => {
    const a = await http(sys.url, 'POST', '/auth/login', { body: { email: reader.email, password: reader.password } });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body).toMatchObject({ token_type: 'bearer', expires_in: expect.any(Number) });
    expect(a.body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expectUserRead(a.body.user, { name: reader.name, phone: reader.phone, email: reader.email, image_url: reader.image_url });
    expect(a.body.user.id).toEqual(id);
    expect((await http(sys.url, 'POST', '/auth/login', { body: { email: reader.email, password: 'wrong password' } })).status).toBe(401);
  });

  it('POST /login {email, password} works the same', async () => {
    const a = await http(sys.url, 'POST', '/login', { body: { email: reader.email, password: reader.password } });
    expect(a.status).toBe(200);
    expectUserRead(a.body.user, { name: reader.name, phone: reader.phone, email: reader.email, image_url: reader.image_url });
  });
});
