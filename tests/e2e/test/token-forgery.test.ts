import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { keyRows, openWithKek } from './signing-keys.js';

const KEK = randomBytes(32);
let sys: System;
let db: pg.Client;

beforeAll(async () => {
  sys = await System.start({ env: { SIGNING_KEY_KEK: KEK.toString('base64'), ACCESS_TOKEN_TTL: '10m' } });
  db = new pg.Client({ connectionString: sys.env.DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await sys?.stop();
});

describe('tokens the system would never issue', () => {
  it('are refused with 401 even when signed with the real signing key, while issued tokens work', async () => {
    const input = newUser();
    expect((await http(sys.url, 'POST', '/register', { body: input })).status).toBe(201);
    const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
    expect(login.status).toBe(200);
    const issued: string = login.body.access_token;
    expect((await http(sys.url, 'GET', '/users/me', { token: issued })).status).toBe(200);

    // the key is stored sealed: nothing private in clear, and it opens only with the KEK
    const { kid } = decodeProtectedHeader(issued);
    const row = (await keyRows(db, sys.env.AUTH_DB_SCHEMA!)).find((r) => r.kid === kid)!;
    expect(row.private_jwk).toBeNull();
    expect(JSON.stringify(row.private_jwk_sealed)).not.toMatch(/"d"/);
    const privateKey = await importJWK(openWithKek(row, KEK), 'EdDSA');

    const real = decodeJwt(issued);
    const now = Math.floor(Date.now() / 1000);
    const forge = (iat: number, exp: number) =>
      new SignJWT({ ...real, jti: crypto.randomUUID(), iat, exp }).setProtectedHeader({ alg: 'EdDSA', kid: kid!, typ: 'at+jwt' }).sign(privateKey);

    // the same key with ordinary claims is accepted: it really is the signing key
    expect((await http(sys.url, 'GET', '/users/me', { token: await forge(now, now + 600) })).status).toBe(200);
    for (const [label, token] of [
      ['issued a day ahead', await forge(now + 86_400, now + 86_400 + 600)],
      ['living 100 years', await forge(now, now + 100 * 365 * 86_400)],
      ['living longer than ACCESS_TOKEN_TTL (10m)', await forge(now, now + 3600)],
    ] as const) {
      const res = await http(sys.url, 'GET', '/users/me', { token });
      expect(res.status, label).toBe(401);
      expect(res.headers.get('www-authenticate'), label).toMatch(/error="invalid_token"/);
      expect(JSON.stringify(res.body), label).not.toContain(input.email);
    }
    // and the normally issued token still works
    expect((await http(sys.url, 'GET', '/users/me', { token: issued })).status).toBe(200);
  });
});
