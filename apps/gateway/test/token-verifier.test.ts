import { randomInt, randomUUID } from 'node:crypto';
import { TOKEN, type Jwks } from '@um/contracts';

import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeKey, signToken, type KeyPair } from './support.js';
import { AppError, createLogger, REFETCH_COOLDOWN_MS, TokenVerifier } from '@um/platform';

const log = createLogger('gateway-test', 'silent');
/** A `sub` claim: a user id in decimal. */
const newSub = () => String(randomInt(1, 2 ** 47));
const jwksOf = (...keys: KeyPair[]): Jwks => ({ keys: keys.map((k) => k.jwk as Jwks['keys'][number]) });

function verifierWith(fetchJwks: () => Promise<Jwks>, isRevoked: (sub: number, iat: number, sid?: string) => boolean = () => false, accessTokenTtlSeconds?: number) {
  let fetches = 0;
  const v = new TokenVerifier(
    async () => {
      fetches++;
      return fetchJwks();
    },
    { isRevoked },
    log,
    accessTokenTtlSeconds,
  );
  return { v, fetches: () => fetches };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TokenVerifier', () => {
  it('returns the principal of a valid token', async () => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const sub = newSub();
    const jti = randomUUID();
    const sid = randomUUID();
    expect(await v.verify(await signToken(key, { sub, role: 'admin', jti, sid }))).toEqual({ userId: Number(sub), role: 'admin', tokenId: jti, sessionId: sid });
  });

  it('asks the revocation cache with the subject, issue time and session', async () => {
    const key = await makeKey();
    const asked: [number, number, string | undefined][] = [];
    const { v } = verifierWith(
      async () => jwksOf(key),
      (sub, iat, sid) => {
        asked.push([sub, iat, sid]);
        return true;
      },
    );
    const sub = newSub();
    const sid = randomUUID();
    const iat = Math.floor(Date.now() / 1000) - 10;
    const err = await rejection(v.verify(await signToken(key, { sub, iat, sid })));
    expect(err.code).toBe('unauthenticated');
    expect(err.id).toBe('auth.token_revoked');
    expect(asked).toEqual([[Number(sub), iat, sid]]);
  });

  it('passes a millisecond-precision (fractional) iat to the revocation cache unrounded', async () => {
    const key = await makeKey();
    const asked: number[] = [];
    const { v } = verifierWith(
      async () => jwksOf(key),
      (_sub, iat) => {
        asked.push(iat);
        return false;
      },
    );
    const iat = (Date.now() - 10_123) / 1000;
    expect(Number.isInteger(iat)).toBe(false);
    await expect(v.verify(await signToken(key, { iat, exp: Math.floor(iat) + 900 }))).resolves.toMatchObject({ role: 'user' });
    expect(asked).toEqual([iat]);
  });

  it('refuses a token only when the cache says its session is revoked', async () => {
    const key = await makeKey();
    const dead = randomUUID();
    const { v } = verifierWith(
      async () => jwksOf(key),
      (_sub, _iat, sid) => sid === dead,
    );
    const sub = newSub();
    const err = await rejection(v.verify(await signToken(key, { sub, sid: dead })));
    expect(err.id).toBe('auth.token_revoked');
    // the same user's token of another session is accepted
    await expect(v.verify(await signToken(key, { sub, sid: randomUUID() }))).resolves.toMatchObject({ userId: Number(sub) });
  });

  it.each([
    ['not a uuid', 'session-1'],
    ['a number', 42],
    ['empty', ''],
  ])('refuses a token whose sid is %s', async (_label, sid) => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const t = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'user', sid })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.jwk.kid!, typ: TOKEN.type })
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      .setSubject(randomUUID())
      .setJti(randomUUID())
      .setIssuedAt(t)
      .setExpirationTime(t + 600)
      .sign(key.privateKey);
    const err = await rejection(v.verify(token));
    expect(err.code).toBe('unauthenticated');
    expect(err.id).toBe('auth.token_claims');
  });

  it('is unavailable (not unauthenticated) while the keys cannot be fetched, and recovers', async () => {
    const key = await makeKey();
    let up = false;
    const { v, fetches } = verifierWith(async () => {
      if (!up) throw new Error('no responders');
      return jwksOf(key);
    });
    await v.warmUp(); // logs, does not throw
    const token = await signToken(key);
    const err = await rejection(v.verify(token));
    expect(err.code).toBe('unavailable');
    expect(err.id).toBe('auth.jwks_unavailable');
    up = true;
    await expect(v.verify(token)).resolves.toMatchObject({ role: 'user' });
    expect(fetches()).toBe(3);
  });

  it('shares one JWKS fetch between concurrent first requests', async () => {
    const key = await makeKey();
    const { v, fetches } = verifierWith(async () => {
      await new Promise((r) => setTimeout(r, 20));
      return jwksOf(key);
    });
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => signToken(key)));
    await Promise.all(tokens.map((t) => v.verify(t)));
    expect(fetches()).toBe(1);
  });

  it('picks up a rotated key, refetching for unknown kids at most once per cooldown', async () => {
    const oldKey = await makeKey('k-old');
    const newKey = await makeKey('k-new');
    let published = jwksOf(oldKey);
    const { v, fetches } = verifierWith(async () => published);
    await v.warmUp();
    expect(fetches()).toBe(1);

    // just fetched: the unknown kid waits for the cooldown, then one refetch finds the new key
    published = jwksOf(oldKey, newKey);
    const started = Date.now();
    await expect(v.verify(await signToken(newKey))).resolves.toMatchObject({ role: 'user' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFETCH_COOLDOWN_MS - 100);
    expect(fetches()).toBe(2);

    // a flood of forged kids costs one fetch per cooldown, not one per token
    const forged = await Promise.all(Array.from({ length: 10 }, async (_, i) => signToken(await makeKey(`forged-${i}`))));
    const results = await Promise.all(forged.map((t) => rejection(v.verify(t))));
    for (const err of results) expect(err.id).toBe('auth.token_invalid');
    expect(fetches()).toBe(3);
    // the old key still works
    await expect(v.verify(await signToken(oldKey))).resolves.toMatchObject({ role: 'user' });
  });

  it('refuses a token with a role outside the enum', async () => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const err = await rejection(v.verify(await signToken(key, { role: 'root' })));
    expect(err.code).toBe('unauthenticated');
    expect(err.id).toBe('auth.token_claims');
  });

  it.each([
    ['a UUID (the form before ids were integers)', '0b9a3c1e-5f2d-4c7a-9e8b-1a2b3c4d5e6f'],
    ['zero', '0'],
    ['a leading zero', '017'],
    ['a sign', '+17'],
    ['a fraction', '1.5'],
    ['beyond 2^53 - 1', '9007199254740992'],
    ['padded', ' 17'],
  ])('refuses a signed token whose sub is %s: ids are positive integers in decimal', async (_what, sub) => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const err = await rejection(v.verify(await signToken(key, { sub })));
    expect(err.id).toBe('auth.token_claims');
    await expect(v.verify(await signToken(key, { sub: '9007199254740991' }))).resolves.toMatchObject({ userId: Number.MAX_SAFE_INTEGER });
  });

  it.each(['sub', 'sid', 'jti', 'iat', 'exp'])('refuses a token without %s', async (missing) => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const t = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { role: 'user', sid: randomUUID(), sub: newSub(), jti: randomUUID(), iat: t, exp: t + 600, iss: TOKEN.issuer, aud: TOKEN.audience };
    delete claims[missing];
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.jwk.kid!, typ: TOKEN.type }).sign(key.privateKey);
    const err = await rejection(v.verify(token));
    expect(err.code).toBe('unauthenticated');
    // the same token with every claim is accepted, so the missing claim is what was refused
    const full = await new SignJWT({ ...claims, [missing]: missing === 'sub' ? newSub() : missing === 'sid' || missing === 'jti' ? randomUUID() : missing === 'iat' ? t : t + 600 })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.jwk.kid!, typ: TOKEN.type })
      .sign(key.privateKey);
    await expect(v.verify(full)).resolves.toBeDefined();
  });

  it('tolerates 5 s of clock skew on expiry, not more', async () => {
    const key = await makeKey();
    const { v } = verifierWith(async () => jwksOf(key));
    const t = Math.floor(Date.now() / 1000);
    await expect(v.verify(await signToken(key, { iat: t - 100, exp: t - 2 }))).resolves.toBeDefined();
    const err = await rejection(v.verify(await signToken(key, { iat: t - 100, exp: t - 30 })));
    expect(err.id).toBe('auth.token_expired');
  });

  describe('remembering verified tokens', () => {
    it('checks the signature of a token once, revocation on every use', async () => {
      const key = await makeKey();
      let revoked = false;
      const { v } = verifierWith(
        async () => jwksOf(key),
        () => revoked,
      );
      const token = await signToken(key);
      const spy = vi.spyOn(crypto.subtle, 'verify');
      await v.verify(token);
      await v.verify(token);
      expect(spy).toHaveBeenCalledTimes(1);
      revoked = true;
      expect((await rejection(v.verify(token))).id).toBe('auth.token_revoked');
    });

    it('refuses a remembered token once it expires', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key));
      const t = Math.floor(Date.now() / 1000);
      const token = await signToken(key, { iat: t - 100, exp: t + 1 });
      await v.verify(token);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime((t + 40) * 1000);
        expect((await rejection(v.verify(token))).id).toBe('auth.token_expired');
      } finally {
        vi.useRealTimers();
      }
    });

    it('forgets every token when the keys are reloaded', async () => {
      const [old, rotated] = [await makeKey(), await makeKey()];
      let keys = jwksOf(old);
      const { v } = verifierWith(async () => keys);
      const token = await signToken(old);
      await v.verify(token);
      // The old key is withdrawn and the keys reloaded: a token it signed is checked again, and fails.
      keys = jwksOf(rotated);
      await v.warmUp();
      expect((await rejection(v.verify(token))).id).toBe('auth.token_invalid');
    });
  });

  describe('refuses tokens the system would never issue', () => {
    const nowS = () => Math.floor(Date.now() / 1000);

    /** A token with exactly these registered claims (undefined: left out). */
    async function tokenWith(key: KeyPair, claims: { iat?: number; exp?: number }) {
      const body = { role: 'user', sid: randomUUID(), sub: newSub(), jti: randomUUID(), iss: TOKEN.issuer, aud: TOKEN.audience, ...claims };
      return new SignJWT(body).setProtectedHeader({ alg: 'EdDSA', kid: key.jwk.kid!, typ: TOKEN.type }).sign(key.privateKey);
    }

    it('accepts a normal token: issued now, living the configured lifetime', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key), undefined, 600);
      const t = nowS();
      await expect(v.verify(await tokenWith(key, { iat: t, exp: t + 600 }))).resolves.toMatchObject({ role: 'user' });
    });

    it('refuses iat more than 60 s ahead, accepts 30 s ahead (clock skew)', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key));
      const t = nowS();
      await expect(v.verify(await tokenWith(key, { iat: t + 30, exp: t + 30 + 900 }))).resolves.toMatchObject({ role: 'user' });
      for (const ahead of [61, 90, 86_400]) {
        const err = await rejection(v.verify(await tokenWith(key, { iat: t + ahead, exp: t + ahead + 900 })));
        expect(err.code).toBe('unauthenticated');
        expect(err.id).toBe('auth.token_iat_future');
      }
    });

    it('refuses a lifetime (exp - iat) above ACCESS_TOKEN_TTL plus 5 s of rounding', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key), undefined, 600);
      const t = nowS();
      // auth-service signs exp = floor(iat) + ttl with a fractional iat: a little under the ttl
      const iat = Date.now() / 1000 - 0.5;
      await expect(v.verify(await tokenWith(key, { iat, exp: Math.floor(iat) + 600 }))).resolves.toBeDefined();
      await expect(v.verify(await tokenWith(key, { iat: t, exp: t + 605 }))).resolves.toBeDefined();
      for (const exp of [t + 606, t + 900, t + 100 * 365 * 86_400]) {
        const err = await rejection(v.verify(await tokenWith(key, { iat: t, exp })));
        expect(err.code).toBe('unauthenticated');
        expect(err.id).toBe('auth.token_lifetime');
      }
    });

    it('refuses an old token whose lifetime is too long even though it expires soon', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key), undefined, 600);
      const t = nowS();
      const err = await rejection(v.verify(await tokenWith(key, { iat: t - 3000, exp: t + 60 })));
      expect(err.id).toBe('auth.token_lifetime');
    });

    it('uses the default lifetime of 15 minutes when none is configured', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key));
      const t = nowS();
      await expect(v.verify(await tokenWith(key, { iat: t, exp: t + 900 }))).resolves.toBeDefined();
      expect((await rejection(v.verify(await tokenWith(key, { iat: t, exp: t + 3600 })))).id).toBe('auth.token_lifetime');
    });

    it('refuses a token without exp, and one without iat, each with its own id', async () => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key));
      const t = nowS();
      const noExp = await rejection(v.verify(await tokenWith(key, { iat: t })));
      expect(noExp.code).toBe('unauthenticated');
      expect(noExp.id).toBe('auth.token_no_exp');
      const noIat = await rejection(v.verify(await tokenWith(key, { exp: t + 600 })));
      expect(noIat.code).toBe('unauthenticated');
      expect(noIat.id).toBe('auth.token_no_iat');
    });

    it.each([
      ['exp', { exp: 'soon' }],
      ['iat', { iat: 'now' }],
    ])('refuses a non-numeric %s', async (_claim, bad) => {
      const key = await makeKey();
      const { v } = verifierWith(async () => jwksOf(key));
      const t = nowS();
      const token = await tokenWith(key, { iat: t, exp: t + 600, ...(bad as object) });
      expect((await rejection(v.verify(token))).code).toBe('unauthenticated');
    });
  });
});
