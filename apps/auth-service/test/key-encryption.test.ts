import { randomBytes } from 'node:crypto';
import { ConfigError, createLogger, createPool, migrate, SealedSecretError, toKek } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/application/tokens.js';
import { loadConfig } from '../src/config.js';
import { ensureSigningKey, loadKeySet } from '../src/keys/key-store.js';
import { MIGRATIONS_DIR, startAuthService } from '../src/service.js';

const silent = createLogger('auth-kek-test', 'silent');
const schemas: string[] = [];
const pools: ReturnType<typeof createPool>[] = [];

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await dropSchemas(testInfra().databaseUrl, ...schemas);
});

async function freshSchema() {
  const schema = uniqueId('t_kek');
  schemas.push(schema);
  await migrate(testInfra().databaseUrl, schema, MIGRATIONS_DIR, silent);
  const pool = createPool(testInfra().databaseUrl, schema, 2);
  pools.push(pool);
  return { schema, pool };
}

interface Row {
  kid: string;
  private_jwk: unknown;
  sealed: string | null;
  kek: string | null;
}
async function rows(pool: ReturnType<typeof createPool>): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    "SELECT kid, private_jwk, private_jwk_sealed::text AS sealed, private_jwk_sealed->>'kek' AS kek FROM signing_keys ORDER BY created_at, kid",
  );
  return rows;
}

/** Start the real service on `schema` with these KEKs (text as in the environment), its log lines kept. */
async function start(schema: string, env: Record<string, string>) {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const log = createLogger('auth-service', 'info', {}, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const config = loadConfig({
    DATABASE_URL: testInfra().databaseUrl,
    NATS_URL: testInfra().natsUrl,
    NATS_NAMESPACE: uniqueId('kek'),
    AUTH_DB_SCHEMA: schema,
    ...env,
  });
  const started = await startAuthService(config, log).then(
    (s) => ({ ok: true as const, s }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  return { lines, ...started };
}

const b64 = (k: Buffer) => k.toString('base64');

/** A token signed with the service's current key verifies with its published keys. */
async function signsAndVerifies(keys: Awaited<ReturnType<typeof loadKeySet>>) {
  const token = await issueAccessToken(
    keys.signing,
    { user_id: 170, role: 'user', authz_version: 1, mfa: false, password_reset_at: null },
    '01900000-0000-7000-8000-0000000000cc',
    60,
  );
  await expect(jwtVerify(token, createLocalJWKSet(keys.jwks))).resolves.toBeTruthy();
}

describe('signing keys at rest', () => {
  it('with SIGNING_KEY_KEK, a new key is stored sealed: no private part in clear in the row', async () => {
    const { schema, pool } = await freshSchema();
    const kek = randomBytes(32);
    const run = await start(schema, { SIGNING_KEY_KEK: kek.toString('hex') });
    expect(run.ok).toBe(true);
    if (run.ok) await run.s.stop();

    const [row, ...more] = await rows(pool);
    expect(more).toHaveLength(0);
    expect(row!.private_jwk).toBeNull();
    expect(row!.kek).toBe(toKek(kek).id);
    expect(row!.sealed).not.toMatch(/"d"|"kty"|Ed25519/);
    const { rows: raw } = await pool.query('SELECT row_to_json(k)::text AS t FROM signing_keys k');
    expect(raw[0].t).not.toMatch(/"d"\s*:/);
    // no warning about clear keys when a KEK is set
    expect(run.lines.filter((l) => l.level >= 40)).toEqual([]);
    await signsAndVerifies(await loadKeySet(pool, { current: toKek(kek) }));
    // the server secrets (throttle and device HMAC keys) are sealed the same way
    const { rows: secrets } = await pool.query<{ name: string; secret: Buffer | null; kek: string }>(
      "SELECT name, secret, secret_sealed ->> 'kek' AS kek FROM server_secrets ORDER BY name",
    );
    expect(secrets).toEqual([
      { name: 'device', secret: null, kek: toKek(kek).id },
      { name: 'idempotency', secret: null, kek: toKek(kek).id },
      { name: 'throttle', secret: null, kek: toKek(kek).id },
    ]);
  });

  it('a key stored in clear before the upgrade is sealed at start and keeps signing under the same kid', async () => {
    const { schema, pool } = await freshSchema();
    await ensureSigningKey(pool, {});
    const before = await loadKeySet(pool, {});
    expect((await rows(pool))[0]!.private_jwk).toMatchObject({ d: expect.any(String) });

    const kek = randomBytes(32);
    const run = await start(schema, { SIGNING_KEY_KEK: b64(kek) });
    expect(run.ok).toBe(true);
    if (run.ok) await run.s.stop();
    expect(run.lines).toContainEqual(expect.objectContaining({ msg: 'signing keys sealed under the current SIGNING_KEY_KEK', sealed: [before.signing.kid] }));

    const [row] = await rows(pool);
    expect(row).toMatchObject({ kid: before.signing.kid, private_jwk: null, kek: toKek(kek).id });
    const after = await loadKeySet(pool, { current: toKek(kek) });
    expect(after.signing.kid).toBe(before.signing.kid);
    // the sealed key is the same key: a token it signs verifies with the key set published before
    const token = await issueAccessToken(
      after.signing,
      { user_id: 170, role: 'user', authz_version: 1, mfa: false, password_reset_at: null },
      '01900000-0000-7000-8000-0000000000cc',
      60,
    );
    await expect(jwtVerify(token, createLocalJWKSet(before.jwks))).resolves.toBeTruthy();
  });

  it('replicas starting together seal the clear keys once', async () => {
    const { pool } = await freshSchema();
    await ensureSigningKey(pool, {});
    const keks = { current: toKek(randomBytes(32)) };
    const results = await Promise.all([ensureSigningKey(pool, keks), ensureSigningKey(pool, keks), ensureSigningKey(pool, keks)]);
    expect(results.flatMap((r) => r.sealed)).toHaveLength(1);
    expect(await rows(pool)).toEqual([expect.objectContaining({ private_jwk: null, kek: keks.current.id })]);
  });

  it('a wrong SIGNING_KEY_KEK stops the start with a message that says so, and changes nothing', async () => {
    const { schema, pool } = await freshSchema();
    const kek = toKek(randomBytes(32));
    await ensureSigningKey(pool, { current: kek });
    const stored = await rows(pool);

    const wrong = randomBytes(32);
    const run = await start(schema, { SIGNING_KEY_KEK: b64(wrong) });
    expect(run.ok).toBe(false);
    const err = (run as { err: unknown }).err;
    expect(err).toBeInstanceOf(SealedSecretError);
    // a ConfigError: runMain prints its message alone and exits 1, no stack trace to decode
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain(`signing key ${stored[0]!.kid} cannot be decrypted`);
    expect(message).toContain(kek.id);
    expect(message).toContain(toKek(wrong).id);
    expect(message).toContain('SIGNING_KEY_KEK');
    expect(message).not.toContain(b64(wrong));
    // never a silent regeneration: the row is as it was, and no new key was made
    expect(await rows(pool)).toEqual(stored);
  });

  it('sealed keys and no SIGNING_KEY_KEK stop the start, saying what to set', async () => {
    const { schema, pool } = await freshSchema();
    await ensureSigningKey(pool, { current: toKek(randomBytes(32)) });
    const stored = await rows(pool);
    const run = await start(schema, {});
    expect(run.ok).toBe(false);
    expect((run as { err: Error }).err.message).toMatch(/cannot be decrypted.*no KEK is configured.*set SIGNING_KEY_KEK/);
    expect(await rows(pool)).toEqual(stored);
  });

  it('without SIGNING_KEY_KEK the service starts, keeps keys in clear and logs a warning saying what to set', async () => {
    const { schema, pool } = await freshSchema();
    const run = await start(schema, {});
    expect(run.ok).toBe(true);
    if (run.ok) await run.s.stop();
    const warnings = run.lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/signing keys are stored in clear.*set SIGNING_KEY_KEK to 32 random bytes/);
    expect((await rows(pool))[0]!.private_jwk).toMatchObject({ d: expect.any(String) });
  });

  it('rotating the KEK: SIGNING_KEY_KEK_PREVIOUS opens the old keys and start reseals them under the new one', async () => {
    const { schema, pool } = await freshSchema();
    const oldKek = randomBytes(32);
    const newKek = randomBytes(32);
    await ensureSigningKey(pool, { current: toKek(oldKek) });
    const before = await loadKeySet(pool, { current: toKek(oldKek) });

    const run = await start(schema, { SIGNING_KEY_KEK: b64(newKek), SIGNING_KEY_KEK_PREVIOUS: b64(oldKek) });
    expect(run.ok).toBe(true);
    if (run.ok) await run.s.stop();
    expect(run.lines).toContainEqual(expect.objectContaining({ resealed: [before.signing.kid] }));
    expect(await rows(pool)).toEqual([expect.objectContaining({ kid: before.signing.kid, private_jwk: null, kek: toKek(newKek).id })]);

    // from now on the new KEK alone opens the keys, the old one no longer does
    await signsAndVerifies(await loadKeySet(pool, { current: toKek(newKek) }));
    await expect(loadKeySet(pool, { current: toKek(oldKek) })).rejects.toThrow(/cannot be decrypted/);
  });

  it.each([
    ['SIGNING_KEY_KEK', { SIGNING_KEY_KEK: randomBytes(16).toString('base64') }, /SIGNING_KEY_KEK: must be exactly 32 bytes .* decodes to 16 bytes/],
    ['SIGNING_KEY_KEK', { SIGNING_KEY_KEK: 'correct horse battery staple' }, /SIGNING_KEY_KEK: must be exactly 32 bytes/],
    ['SIGNING_KEY_KEK_PREVIOUS', { SIGNING_KEY_KEK_PREVIOUS: randomBytes(32).toString('hex') }, /SIGNING_KEY_KEK_PREVIOUS: needs SIGNING_KEY_KEK/],
  ])('refuses a bad %s at start, naming it without echoing the value', (_name, env, message) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    for (const value of Object.values(env)) expect((err as Error).message).not.toContain(value);
  });
});
