import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, System } from './harness.js';
import { SmtpSink } from './smtp.js';

/**
 * Spec 000 (shared/seeds/000), as its client calls it: register (an email is sent), log in with
 * username and password for a JWT, list all users, search by each field, delete with
 * POST /user_delete/{user_id}; every protected call with "Bearer {token}".
 */
let sys: System;
let smtp: SmtpSink;

beforeAll(async () => {
  smtp = new SmtpSink();
  sys = await System.start({ mail: 1, env: { SMTP_URL: await smtp.start(), RELAY_POLL_MS: '200' } });
});
afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
});

const stamp = Date.now().toString(36);
const alice = {
  username: `alice_${stamp}`,
  email: `alice.${stamp}@example.com`,
  password: 'correct horse 000',
  fio: 'Alice Liddell',
  birthday: '1990-01-02',
  tags: ['books', 'chess'],
};
const bob = { username: `bob_${stamp}`, email: `bob.${stamp}@example.com`, password: 'correct horse 000b', fio: 'Bob Builder', birthday: '1985-03-04', tags: ['tools'] };

/** The user's id as spec 000 has it: an integer, generated when the user is created. */
const expectId = (id: unknown) => expect(Number.isSafeInteger(id) && (id as number) > 0).toBe(true);

describe('spec 000 client', () => {
  let token = '';
  let aliceId: unknown;
  let bobId: unknown;

  it('POST /register answers JSON with the registered user, and sends a confirmation email', async () => {
    const a = await http(sys.url, 'POST', '/register', { body: alice });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ username: alice.username, email: alice.email, config: { fio: alice.fio, birthday: alice.birthday, tags: alice.tags } });
    expect(a.body).not.toHaveProperty('password');
    expectId(a.body.id);
    aliceId = a.body.id;
    const b = await http(sys.url, 'POST', '/register', { body: bob });
    expect(b.status).toBe(201);
    bobId = b.body.id;
    expect(bobId).not.toEqual(aliceId);
    await eventually(async () => smtp.to(alice.email).length >= 1, 15_000);
  });

  it('POST /register refuses a taken username, a bad email and a short username', async () => {
    expect((await http(sys.url, 'POST', '/register', { body: { ...alice, email: `x.${stamp}@example.com` } })).status).toBe(409);
    expect((await http(sys.url, 'POST', '/register', { body: { ...alice, username: `x_${stamp}`, email: 'not-an-email' } })).status).toBe(422);
    expect((await http(sys.url, 'POST', '/register', { body: { ...alice, username: 'abc', email: `y.${stamp}@example.com` } })).status).toBe(422);
  });

  it('POST /login with username and password answers a JWT', async () => {
    const a = await http(sys.url, 'POST', '/login', { body: { username: alice.username, password: alice.password } });
    expect(a.status).toBe(200);
    expect(a.body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    token = a.body.access_token;
    expect((await http(sys.url, 'POST', '/login', { body: { username: alice.username, password: 'wrong password' } })).status).toBe(401);
  });

  it('GET /users answers the list of all users, for a bearer token only', async () => {
    expect((await http(sys.url, 'GET', '/users')).status).toBe(401);
    const a = await http(sys.url, 'GET', '/users', { token });
    expect(a.status).toBe(200);
    expect(Array.isArray(a.body)).toBe(true);
    expect(a.body.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining([alice.username, bob.username]));
  });

  it('GET /users/search by username, email, fio, birthday and tags, each optional', async () => {
    const names = async (q: string) => {
      const a = await http(sys.url, 'GET', `/users/search?${q}`, { token });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      return (a.body as Array<{ username: string }>).map((u) => u.username).sort();
    };
    expect(await names(`username=${alice.username}`)).toEqual([alice.username]);
    expect(await names(`email=bob.${stamp}`)).toEqual([bob.username]);
    expect(await names(`fio=liddell`)).toEqual([alice.username]);
    expect(await names(`birthday=1985-03-04&username=${stamp}`)).toEqual([bob.username]);
    expect(await names(`tags=books,chess&username=${stamp}`)).toEqual([alice.username]);
    expect(await names(`username=${stamp}`)).toEqual([alice.username, bob.username]);
  });

  it('POST /user_delete/{user_id} answers the deleted user; a user may delete only themself', async () => {
    const other = await http(sys.url, 'POST', `/user_delete/${String(bobId)}`, { token });
    expect(other.status).toBe(403);
    const a = await http(sys.url, 'POST', `/user_delete/${String(aliceId)}`, { token });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: aliceId, username: alice.username, email: alice.email });
    expect((await http(sys.url, 'GET', '/users', { token })).status).toBe(401);
  });
});
