import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

/**
 * Spec 002 (shared/seeds/002), as its client calls it: POST /login with login and password → jwt
 * and refresh_token; GET /user (401 without a token); POST /refresh_jwt (FastAPI: refresh_token as
 * a query parameter); POST /logout.
 */
let sys: System;
const account = newUser();

beforeAll(async () => {
  sys = await System.start();
  expect((await http(sys.url, 'POST', '/register', { body: account })).status).toBe(201);
});
afterAll(() => sys?.stop());

describe('spec 002 client', () => {
  let access = '';
  let refresh = '';

  it('POST /login with login and password answers a jwt and a refresh_token', async () => {
    const a = await http(sys.url, 'POST', '/login', { body: { username: account.username, password: account.password } });
    expect(a.status).toBe(200);
    expect(a.body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(typeof a.body.refresh_token).toBe('string');
    ({ access_token: access, refresh_token: refresh } = a.body);
  });

  it('GET /user shows the user to the authenticated, 401 to anyone else', async () => {
    const a = await http(sys.url, 'GET', '/user', { token: access });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ username: account.username, email: account.email, config: { fio: account.fio } });
    expect((await http(sys.url, 'GET', '/user')).status).toBe(401);
    expect((await http(sys.url, 'GET', '/user', { token: 'not.a.token' })).status).toBe(401);
  });

  it('POST /refresh_jwt?refresh_token=… renews the tokens; the old refresh token is spent', async () => {
    const a = await http(sys.url, 'POST', `/refresh_jwt?refresh_token=${encodeURIComponent(refresh)}`);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.refresh_token).not.toBe(refresh);
    expect((await http(sys.url, 'GET', '/user', { token: a.body.access_token })).status).toBe(200);
    // and with a JSON body, as other clients send it
    const b = await http(sys.url, 'POST', '/refresh_jwt', { body: { refresh_token: a.body.refresh_token } });
    expect(b.status).toBe(200);
    ({ access_token: access, refresh_token: refresh } = b.body);
    const none = await http(sys.url, 'POST', '/refresh_jwt');
    expect(none.status).toBe(422);
    expect(none.body.errors).toEqual([{ field: 'refresh_token', message: 'is required' }]);
  });

  it('POST /logout ends the session: the jwt and the refresh token stop working', async () => {
    expect((await http(sys.url, 'POST', '/logout', { token: access })).status).toBe(204);
    const deadline = Date.now() + 2000;
    let status = 0;
    while (Date.now() < deadline && status !== 401) status = (await http(sys.url, 'GET', '/user', { token: access })).status;
    expect(status).toBe(401);
    expect((await http(sys.url, 'POST', `/refresh_jwt?refresh_token=${encodeURIComponent(refresh)}`)).status).toBe(401);
  });
});
