import { TOKEN } from '@um/contracts';
import { createLogger, createPool, migrate } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/application/tokens.js';
import { createSigningKey, ensureSigningKey, loadKeySet } from '../src/keys/key-store.js';
import { MIGRATIONS_DIR } from '../src/service.js';

const log = createLogger('auth-test', 'silent');
let schema: string;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  schema = uniqueId('t_auth');
  await migrate(testInfra().databaseUrl, schema, MIGRATIONS_DIR, log);
  pool = createPool(testInfra().databaseUrl, schema);
});
afterAll(async () => {
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

/** Let `ms` pass for the keys stored so far (their creation times move back; their order stays), instead of waiting. */
const ageKeys = (ms: number) => pool.query(`UPDATE signing_keys SET created_at = created_at - make_interval(secs => $1)`, [ms / 1000]);

describe('signing keys', () => {
  it('are created once when replicas start together', async () => {
    await Promise.all([ensureSigningKey(pool, {}), ensureSigningKey(pool, {}), ensureSigningKey(pool, {})]);
    await ensureSigningKey(pool, {});
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM signing_keys');
    expect(rows[0].n).toBe(1);
    const a = await loadKeySet(pool, {});
    const b = await loadKeySet(pool, {});
    expect(a.signing.kid).toBe(b.signing.kid);
    expect(a.jwks.keys).toHaveLength(1);
    expect(JSON.stringify(a.jwks)).not.toMatch(/"d"\s*:/);
  });

  it('sign access tokens that verify with the published keys, pinned to alg, issuer, audience and type', async () => {
    const keys = await loadKeySet(pool, {});
    const user = { user_id: 170, role: 'admin' as const, authz_version: 2, mfa: false, password_reset_at: null };
    const token = await issueAccessToken(keys.signing, user, '01900000-0000-7000-8000-0000000000cc', 900);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks), {
      algorithms: [TOKEN.algorithm],
      issuer: TOKEN.issuer,
      audience: TOKEN.audience,
      typ: TOKEN.type,
    });
    expect(payload).toMatchObject({ sub: String(user.user_id), role: 'admin', ver: 2, sid: '01900000-0000-7000-8000-0000000000cc', iss: TOKEN.issuer, aud: TOKEN.audience });
    expect(payload.exp! - Math.floor(payload.iat!)).toBe(900);
    expect(typeof payload.jti).toBe('string');
  });

  it('rotate: the newest key signs, older keys still verify', async () => {
    const before = await loadKeySet(pool, {});
    const oldToken = await issueAccessToken(
      before.signing,
      { user_id: 187, role: 'user', authz_version: 1, mfa: false, password_reset_at: null },
      '01900000-0000-7000-8000-0000000000dd',
      60,
    );
    await ageKeys(1_000);
    const kid = await createSigningKey(pool, {});
    const after = await loadKeySet(pool, {});
    expect(after.signing.kid).toBe(kid);
    expect(after.jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before.signing.kid, kid]));
    await expect(jwtVerify(oldToken, createLocalJWKSet(after.jwks), { algorithms: ['EdDSA'] })).resolves.toBeTruthy();
  });

  it('publish a new key before it signs: the previous key signs until the activation delay has passed', async () => {
    const before = await loadKeySet(pool, {});
    await ageKeys(1_000);
    const kid = await createSigningKey(pool, {});
    const soon = await loadKeySet(pool, {}, 200);
    expect(soon.signing.kid).toBe(before.signing.kid);
    expect(soon.jwks.keys.map((k) => k.kid)).toContain(kid);
    const later = await loadKeySet(pool, {}, 200, Date.now() + 1000);
    expect(later.signing.kid).toBe(kid);
  });
});
