import { randomBytes } from 'node:crypto';
import { eventually } from '@um/testkit';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from './admin-cli.js';
import { http, newUser, System } from './harness.js';
import { keyRows, openWithKek } from './signing-keys.js';

const KEK = randomBytes(32);
let sys: System;
let db: pg.Client;

beforeAll(async () => {
  // Keys refresh every second and sign 2.5 s after their creation (the harness's settings).
  sys = await System.start({ env: { SIGNING_KEY_KEK: KEK.toString('base64') } });
  db = new pg.Client({ connectionString: sys.env.DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await sys?.stop();
});

const rows = () => keyRows(db, sys.env.AUTH_DB_SCHEMA!);
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

describe('admin rotate-keys', () => {
  it('makes new tokens sign with the new key while tokens of the old key keep verifying', async () => {
    const input = newUser();
    expect((await http(sys.url, 'POST', '/register', { body: input })).status).toBe(201);
    const login = async () => (await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } })).body.access_token as string;
    const before = await login();

    const run = await runAdmin(['rotate-keys'], sys.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rotated = JSON.parse(run.stdout) as { kid: string; removed: string[]; signs_after_ms: number };
    expect(rotated).toMatchObject({ removed: [], signs_after_ms: 2500 });
    expect(rotated.kid).not.toBe(kidOf(before));

    // published beside the old key (at the replicas' next refresh), then signing
    await eventually(async () => {
      const kids = (await http(sys.url, 'GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid) as string[];
      return kids.includes(rotated.kid) && kids.includes(kidOf(before));
    }, 15_000);
    const after = await eventually(async () => {
      const token = await login();
      return kidOf(token) === rotated.kid ? token : undefined;
    }, 15_000);

    for (const token of [before, after]) expect((await http(sys.url, 'GET', '/users/me', { token })).status).toBe(200);

    // stored sealed under the KEK, like every key
    const stored = (await rows()).find((r) => r.kid === rotated.kid)!;
    expect(stored.private_jwk).toBeNull();
    expect(openWithKek(stored, KEK)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String) });
  });

  it('removes only keys replaced longer ago than any token signed with them can live', async () => {
    expect((await runAdmin(['rotate-keys'], sys.env)).code).toBe(0);
    const keys = await rows();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    // Every key but the newest was replaced days ago, by a key itself replaced only now: they alone are past use.
    const older = keys.slice(0, -1);
    const newest = keys[keys.length - 1]!;
    for (const [i, k] of older.entries())
      await db.query(`UPDATE "${sys.env.AUTH_DB_SCHEMA}".signing_keys SET created_at = now() - interval '3 days' + $2 * interval '1 second' WHERE kid = $1`, [k.kid, i]);
    await db.query(`UPDATE "${sys.env.AUTH_DB_SCHEMA}".signing_keys SET created_at = now() - interval '2 days' WHERE kid = $1`, [newest.kid]);
    const run = await runAdmin(['rotate-keys'], sys.env);
    expect(run.code).toBe(0);
    const { kid, removed } = JSON.parse(run.stdout) as { kid: string; removed: string[] };
    expect([...removed].sort()).toEqual(older.map((k) => k.kid).sort());
    expect((await rows()).map((r) => r.kid)).toEqual([newest.kid, kid]);
  });

  it('refuses a KEK that cannot open the stored keys, and adds nothing', async () => {
    const before = await rows();
    const run = await runAdmin(['rotate-keys'], { ...sys.env, SIGNING_KEY_KEK: randomBytes(32).toString('hex') });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/admin rotate-keys: signing key \S+ cannot be decrypted: .*SIGNING_KEY_KEK/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await rows()).toEqual(before);
  });

  it('takes no arguments', async () => {
    const run = await runAdmin(['rotate-keys', 'now'], sys.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/takes no arguments/);
  });
});
