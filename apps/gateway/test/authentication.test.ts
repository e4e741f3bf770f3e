/** Every protected route and alias refuses a missing, forged or wrong-role token, and forwards a valid one. */
import { randomUUID } from 'node:crypto';
import { TOKEN } from '@um/contracts';
import { base64url, exportSPKI, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { policy } from '../src/access/policy.js';
import { aliases } from '../src/http/routes.js';
import { aliasRequests, allProtected, protectedRequests, replyByRpc, routeRequester, validRegistration } from './route-requests.js';
import { expectNoContent, expectProblem, KID, makeKey, newSub, newUserId, requester, signToken, unsignedToken, useGateway, userReply, type Answer } from './support.js';

const h = useGateway();
const { send, postJson } = requester(() => h);
const { requestOf } = routeRequester(send);

describe('authentication of protected routes', () => {
  it('covers every non-public route in the policy', () => {
    const nonPublic = Object.entries(policy)
      .filter(([, rule]) => rule.kind !== 'public')
      .map(([k]) => k)
      .sort();
    expect(Object.keys(protectedRequests).sort()).toEqual(nonPublic);
  });

  it('covers every alias, marking exactly those of public routes as public', () => {
    expect(Object.keys(aliasRequests).sort()).toEqual(aliases.map((a) => a.alias).sort());
    for (const { alias, target } of aliases) expect(aliasRequests[alias]!.public ?? false, alias).toBe(policy[target].kind === 'public');
  });

  type BadAuth = [name: string, header: (self: string) => Promise<string | undefined>, invalidToken: boolean | undefined];
  const bad: BadAuth[] = [
    ['no Authorization header', async () => undefined, false],
    ['Basic credentials', async () => 'Basic YWxpY2U6c2VjcmV0', undefined],
    ['"Bearer" without a token', async () => 'Bearer', undefined],
    ['a token with spaces', async () => 'Bearer abc def', undefined],
    ['a garbage token', async () => 'Bearer not-a-jwt', true],
    ['a garbage three-part token', async () => 'Bearer aaa.bbb.ccc', true],
    ['an alg:none token', async (self) => `Bearer ${unsignedToken(self)}`, true],
    ['a token signed by another key with the same kid', async (self) => `Bearer ${await signToken(await makeKey(KID), { sub: self })}`, true],
    // (a token with an unknown kid: below, every route at once, as each such request waits for the JWKS refetch cooldown)
    [
      'an expired token',
      async (self) => {
        const t = Math.floor(Date.now() / 1000);
        return `Bearer ${await signToken(h.key, { sub: self, iat: t - 3600, exp: t - 60 })}`;
      },
      true,
    ],
    ['a token for another audience', async (self) => `Bearer ${await signToken(h.key, { sub: self, aud: 'someone-else/api' })}`, true],
    ['a token from another issuer', async (self) => `Bearer ${await signToken(h.key, { sub: self, iss: 'evil/issuer' })}`, true],
    ['a token with typ JWT', async (self) => `Bearer ${await signToken(h.key, { sub: self, typ: 'JWT' })}`, true],
    ['a token with an unknown role', async (self) => `Bearer ${await signToken(h.key, { sub: self, role: 'superuser' })}`, true],
    ['a token whose subject is not a user id', async () => `Bearer ${await signToken(h.key, { sub: 'admin' })}`, true],
    ['a token whose subject is a UUID (ids before integers)', async () => `Bearer ${await signToken(h.key, { sub: randomUUID() })}`, true],
    ['an HS256 token keyed with the raw public key', async (self) => `Bearer ${await hmacToken(self, base64url.decode(h.key.jwk.x!))}`, true],
    ['an HS256 token keyed with the PEM public key', async (self) => `Bearer ${await hmacToken(self, new TextEncoder().encode(await exportSPKI(h.key.publicKey)))}`, true],
    [
      'a revoked token',
      async (self) => {
        h.revocations.revoked.add(Number(self));
        return `Bearer ${await signToken(h.key, { sub: self })}`;
      },
      true,
    ],
    [
      'a token of a revoked session',
      async (self) => {
        const sid = randomUUID();
        h.revocations.revokedSessions.add(sid);
        return `Bearer ${await signToken(h.key, { sub: self, sid })}`;
      },
      true,
    ],
    ['a token whose sid is not a uuid', async (self) => `Bearer ${await signToken(h.key, { sub: self, sid: 'session-1' })}`, true],
  ];

  async function hmacToken(sub: string, secret: Uint8Array) {
    return new SignJWT({ role: 'admin', sid: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: KID, typ: TOKEN.type })
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(secret);
  }

  const matrix = Object.entries(allProtected).flatMap(([route, r]) => bad.map(([name, header, invalid]) => [route, name, r, header, invalid] as const));

  function expectRefused(a: Answer, invalidToken: boolean | undefined) {
    expectProblem(a, 401, 'unauthenticated');
    const challenge = a.headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer realm="user-management"/);
    // RFC 6750 §3: a well-formed challenge; error_description only from %x20-21 / %x23-5B / %x5D-7E (no '"' or '\\')
    expect(challenge).toMatch(/^Bearer realm="user-management"(, error="invalid_token", error_description="[\x20\x21\x23-\x5B\x5D-\x7E]+")?$/);
    if (invalidToken === true) expect(challenge).toContain('error="invalid_token"');
    if (invalidToken === false) expect(challenge).not.toContain('error=');
  }

  it.each(matrix)('%s with %s → 401', async (_route, _name, r, header, invalidToken) => {
    const self = newSub();
    const authorization = await header(self);
    const a = await requestOf(r, self, { headers: authorization === undefined ? {} : { authorization } });
    expectRefused(a, invalidToken);
    expect(h.rpc.calls).toEqual([]);
  });

  it('every protected route with a token with an unknown kid → 401', async () => {
    const answers = await Promise.all(
      Object.entries(allProtected).map(async ([route, r]) => {
        const self = newSub();
        const token = await signToken(await makeKey('other-kid'), { sub: self, role: 'admin' });
        return [route, await requestOf(r, self, { token })] as const;
      }),
    );
    expect(answers).toHaveLength(Object.keys(allProtected).length);
    for (const [route, a] of answers) {
      expect(a.status, route).toBe(401);
      expectRefused(a, true);
    }
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(Object.entries(allProtected))('%s with a valid token → forwarded', async (_route, r) => {
    const self = newSub();
    h.rpc.reply = replyByRpc;
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self, role: r.role ?? 'user' }) });
    expect(a.status, a.text).toBe(r.ok);
    if (r.ok === 204) expectNoContent(a);
    expect(a.headers.get('www-authenticate')).toBeNull();
    expect(h.rpc.calls).toHaveLength(1);
    expect(h.rpc.calls[0]).toMatchObject({ rpc: r.rpc, meta: { actorId: self, requestId: a.headers.get('x-request-id') } });
  });

  it.each(Object.entries(allProtected).filter(([, r]) => r.role === 'admin'))('%s with a valid user token → 403, not forwarded', async (_route, r) => {
    const self = newSub();
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self }) });
    expectProblem(a, 403, 'permission_denied');
    expect(a.headers.get('www-authenticate')).toBeNull();
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(Object.entries(aliasRequests).filter(([, r]) => r.public))('%s (public alias) needs no token', async (_route, r) => {
    h.rpc.reply = replyByRpc;
    const a = await requestOf(r, newSub(), { headers: { authorization: 'Bearer garbage' } });
    expect(a.status, a.text).toBe(r.ok);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: r.rpc, meta: expect.objectContaining({ actorId: null }) })]);
  });

  it("asks the revocation cache with the token's subject and session", async () => {
    const self = newSub();
    const sid = randomUUID();
    h.rpc.reply = replyByRpc;
    expect((await send('/users', { token: await signToken(h.key, { sub: self, sid }) })).status).toBe(200);
    expect(h.revocations.asked).toEqual([[Number(self), expect.any(Number), sid]]);
  });

  it("a session revocation refuses only that session's tokens", async () => {
    const self = newSub();
    const sid = randomUUID();
    const dead = await signToken(h.key, { sub: self, sid });
    const otherSession = await signToken(h.key, { sub: self });
    h.rpc.reply = replyByRpc;
    expect((await send('/users', { token: dead })).status).toBe(200);
    h.revocations.revokedSessions.add(sid);
    const a = await send('/users', { token: dead });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await send('/users', { token: otherSession })).status).toBe(200);
    expect(h.rpc.calls).toHaveLength(2);
  });

  it('an expired token says so in the challenge', async () => {
    const t = Math.floor(Date.now() / 1000);
    const a = await send('/users', { token: await signToken(h.key, { iat: t - 3600, exp: t - 60 }) });
    expectProblem(a, 401);
    expect(a.headers.get('www-authenticate')).toContain('error_description="The access token has expired"');
  });

  it('a revocation only refuses that user, and accepts the token once lifted', async () => {
    const self = newSub();
    const token = await signToken(h.key, { sub: self });
    h.rpc.reply = replyByRpc;
    h.revocations.revoked.add(newUserId());
    expect((await send('/users', { token })).status).toBe(200);
    h.revocations.revoked.add(Number(self));
    expect((await send('/users', { token })).status).toBe(401);
    h.revocations.revoked.delete(Number(self));
    expect((await send('/users', { token })).status).toBe(200);
  });

  it('accepts a lowercase "bearer" scheme', async () => {
    h.rpc.reply = replyByRpc;
    const a = await send('/users', { headers: { authorization: `bearer ${await signToken(h.key)}` } });
    expect(a.status).toBe(200);
  });

  it('public routes ignore a bad token', async () => {
    h.rpc.reply = () => userReply();
    const a = await postJson('/register', validRegistration, { headers: { authorization: 'Bearer garbage' } });
    expect(a.status).toBe(201);
  });
});
