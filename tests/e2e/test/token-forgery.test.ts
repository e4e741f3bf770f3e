import { spawn } from 'node:child_process';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

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

interface KeyRow {
  kid: string;
  private_jwk: JWK | null;
  private_jwk_sealed: { v: number; alg: string; kek: string; iv: string; ct: string; tag: string } | null;
}

const keyRows = async () => (await db.query<KeyRow>(`SELECT kid, private_jwk, private_jwk_sealed FROM "${sys.env.AUTH_DB_SCHEMA}".signing_keys ORDER BY created_at`)).rows;

/** Open a sealed private key as an attacker holding the database and the KEK would: AES-256-GCM, the kid as associated data. */
function openWithKek(row: KeyRow): JWK {
  const s = row.private_jwk_sealed!;
  const d = createDecipheriv('aes-256-gcm', KEK, Buffer.from(s.iv, 'base64url'));
  d.setAAD(Buffer.from(row.kid));
  d.setAuthTag(Buffer.from(s.tag, 'base64url'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(s.ct, 'base64url')), d.final()]).toString('utf8')) as JWK;
}

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
    const row = (await keyRows()).find((r) => r.kid === kid)!;
    expect(row.private_jwk).toBeNull();
    expect(JSON.stringify(row.private_jwk_sealed)).not.toMatch(/"d"/);
    const privateKey = await importJWK(openWithKek(row), 'EdDSA');

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

  it('npm run rotate-keys with SIGNING_KEY_KEK stores the new key sealed', async () => {
    const before = await keyRows();
    const script = fileURLToPath(new URL('../../../apps/auth-service/dist/rotate-keys.js', import.meta.url));
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...sys.env }, stdio: 'ignore' }).on('exit', resolve),
    );
    expect(code).toBe(0);
    const after = await keyRows();
    expect(after.length).toBe(before.length + 1);
    for (const row of after) {
      expect(row.private_jwk).toBeNull();
      expect(openWithKek(row)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String) });
    }
  });

  it('rotate-keys with another KEK refuses and adds nothing', async () => {
    const before = await keyRows();
    const script = fileURLToPath(new URL('../../../apps/auth-service/dist/rotate-keys.js', import.meta.url));
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [script], {
        env: { PATH: process.env.PATH ?? '', ...sys.env, SIGNING_KEY_KEK: randomBytes(32).toString('hex') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('exit', resolve);
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/rotate-keys: signing key \S+ cannot be decrypted: .*SIGNING_KEY_KEK/);
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await keyRows()).toEqual(before);
  });
});
