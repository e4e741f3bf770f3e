import { randomUUID } from 'node:crypto';
import { TOKEN } from '@um/contracts';
import { AppError } from '@um/platform';
import { base64url, exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { policy } from '../src/access/policy.js';
import { aliases } from '../src/http/routes.js';
import { DOCS_CSP } from '../src/http/docs-page.js';
import {
  expectNoContent,
  expectProblem,
  historyEntry,
  KID,
  loginReply,
  loginRpcReply,
  DEVICE_TOKEN,
  makeKey,
  requester,
  signToken,
  startGateway,
  newSub,
  newUserId,
  unsignedToken,
  userReply,
  type Answer,
  type Harness,
} from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await startGateway();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.rpc.reset();
  h.revocations.reset();
  h.readiness.value = { ok: true, checks: { nats: 'ok', users: 'ok', auth: 'ok' } };
});

const { send, postJson } = requester(() => h);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const validRegistration = {
  username: 'alice_1',
  email: 'alice@example.com',
  password: 'correct horse battery',
  fio: 'Alice Example',
  birthday: '1990-01-02',
  tags: ['a', 'b'],
};

/** Canned service replies, by RPC name; each passes the RPC's reply schema (the fake RPC checks). */
function replyByRpc(rpc: string, input: any): unknown {
  switch (rpc) {
    case 'users.list':
    case 'users.search':
      return { items: [userReply()], total: 1 };
    case 'users.get':
    case 'users.update':
    case 'users.delete':
      return userReply(input.user_id);
    case 'users.set_role':
      return userReply(input.user_id, { role: input.role });
    case 'users.history':
      return [historyEntry()];
    case 'users.register':
      return userReply(newUserId(), { role: input.role ?? 'user' });
    case 'users.request_email_confirmation':
      return { status: 'accepted' };
    case 'auth.login':
      return loginRpcReply();
    case 'auth.refresh':
      return { access_token: 'new.access.token', token_type: 'bearer', expires_in: 900, refresh_token: 'next-refresh-token' };
    case 'auth.logout':
      return { sessions_ended: 1 };
    case 'auth.change_password':
      return { status: 'changed', sessions_ended: 2 };
    case 'auth.login_mfa':
      return loginRpcReply();
    case 'auth.reset_password':
      return { status: 'reset', sessions_ended: 1 };
    case 'users.request_password_reset':
      return { status: 'accepted' };
    case 'users.start_totp':
      return { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP', qr_code: 'data:image/svg+xml;base64,PHN2Zy8+' };
    case 'users.confirm_totp':
      return { recovery_codes: ['abcde-fghjk'] };
    case 'auth.disable_totp':
    case 'users.reset_mfa':
      return { status: 'disabled' };
    default:
      throw new Error(`unexpected rpc ${rpc}`);
  }
}

interface RouteRequest {
  method: string;
  /** The path to request; `self` is the caller's user id. */
  path: (self: string) => string;
  /** A valid JSON body, for routes that take one. */
  body?: unknown;
  /** The role the caller needs; a user unless said. */
  role?: 'admin';
  ok: number;
  rpc: string;
}

const changePassword = { current_password: 'old password 1', new_password: 'new password 2' };

/** One request per protected route. */
const protectedRequests: Record<string, RouteRequest> = {
  'POST /logout': { method: 'POST', path: () => '/logout', ok: 204, rpc: 'auth.logout' },
  'POST /confirm-email/resend': { method: 'POST', path: () => '/confirm-email/resend', ok: 202, rpc: 'users.request_email_confirmation' },
  'GET /users': { method: 'GET', path: () => '/users', ok: 200, rpc: 'users.list' },
  'POST /users': { method: 'POST', path: () => '/users', body: { ...validRegistration, role: 'admin' }, role: 'admin', ok: 201, rpc: 'users.register' },
  'GET /users/search': { method: 'GET', path: () => '/users/search?username=alice', ok: 200, rpc: 'users.search' },
  'GET /users/me': { method: 'GET', path: () => '/users/me', ok: 200, rpc: 'users.get' },
  'PUT /users': { method: 'PUT', path: () => '/users', body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
  'PUT /users/me/password': { method: 'PUT', path: () => '/users/me/password', body: changePassword, ok: 200, rpc: 'auth.change_password' },
  'POST /users/me/mfa/totp': { method: 'POST', path: () => '/users/me/mfa/totp', ok: 200, rpc: 'users.start_totp' },
  'POST /users/me/mfa/totp/confirm': { method: 'POST', path: () => '/users/me/mfa/totp/confirm', body: { code: '123456' }, ok: 200, rpc: 'users.confirm_totp' },
  'DELETE /users/me/mfa/totp': { method: 'DELETE', path: () => '/users/me/mfa/totp', body: { code: '123456' }, ok: 200, rpc: 'auth.disable_totp' },
  'DELETE /users/:user_id/mfa/totp': { method: 'DELETE', path: (self) => `/users/${self}/mfa/totp`, role: 'admin', ok: 200, rpc: 'users.reset_mfa' },
  'GET /users/:user_id': { method: 'GET', path: (self) => `/users/${self}`, ok: 200, rpc: 'users.get' },
  'PATCH /users/:user_id': { method: 'PATCH', path: (self) => `/users/${self}`, body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
  'DELETE /users/:user_id': { method: 'DELETE', path: (self) => `/users/${self}`, ok: 204, rpc: 'users.delete' },
  'PUT /users/:user_id/role': { method: 'PUT', path: (self) => `/users/${self}/role`, body: { role: 'user' }, role: 'admin', ok: 200, rpc: 'users.set_role' },
  'GET /users/:user_id/history': { method: 'GET', path: (self) => `/users/${self}/history`, ok: 200, rpc: 'users.history' },
  'POST /user_delete/:user_id': { method: 'POST', path: (self) => `/user_delete/${self}`, ok: 200, rpc: 'users.delete' },
};

/** One request per alias; `public` for aliases of public routes. */
const aliasRequests: Record<string, RouteRequest & { public?: true }> = {
  'GET /user': { method: 'GET', path: () => '/user', ok: 200, rpc: 'users.get' },
  'DELETE /users': { method: 'DELETE', path: () => '/users', ok: 204, rpc: 'users.delete' },
  'PUT /users/:user_id': { method: 'PUT', path: (self) => `/users/${self}`, body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
};

const protectedAliases = Object.fromEntries(Object.entries(aliasRequests).filter(([, r]) => !r.public));
/** Every protected way in: the routes and the aliases of protected routes. */
const allProtected = { ...protectedRequests, ...protectedAliases };

const requestOf = (r: RouteRequest, self: string, init: { token?: string; headers?: Record<string, string> } = {}) =>
  send(r.path(self), { method: r.method, ...(r.body === undefined ? {} : { json: r.body }), ...init });

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

describe('path ids: positive integers up to 2^53 - 1, anything else names nothing', () => {
  const idRoutes = Object.entries(allProtected).filter(([route]) => route.includes(':user_id'));
  const outOfRange = ['0', '-1', '0042', '+42', '4.2', '4e2', '0x2a', ' 42', '42abc', 'abc', '0b9a3c1e-5f2d-4c7a-9e8b-1a2b3c4d5e6f', '9007199254740992', '18446744073709551616'];

  it('covers every /users/{id}-style route', () => {
    expect(idRoutes.map(([route]) => route).sort()).toEqual(
      [...Object.keys(policy).filter((k) => k.includes(':user_id')), ...aliases.filter((a) => a.alias.includes(':user_id')).map((a) => a.alias)].sort(),
    );
  });

  it.each(idRoutes)('%s: every malformed or out-of-range id is the same 404 for an admin, a user and an anonymous caller', async (_route, r) => {
    const bodies = new Set<string>();
    for (const id of outOfRange)
      for (const token of [await signToken(h.key, { role: 'admin' }), await signToken(h.key), undefined]) {
        const a = await requestOf(r, encodeURIComponent(id), token ? { token } : {});
        expectProblem(a, 404, 'not_found');
        const { request_id: _id, ...problem } = a.body;
        bodies.add(JSON.stringify(problem));
      }
    expect([...bodies]).toEqual([JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'User not found', code: 'not_found' })]);
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(idRoutes)('%s: the smallest and the largest id are forwarded as numbers', async (_route, r) => {
    h.rpc.reply = replyByRpc;
    for (const id of [1, Number.MAX_SAFE_INTEGER]) {
      h.rpc.reset();
      h.rpc.reply = replyByRpc;
      const a = await requestOf(r, String(id), { token: await signToken(h.key, { role: 'admin' }) });
      expect(a.status, a.text).toBe(r.ok);
      expect((h.rpc.calls[0]!.input as { user_id: number }).user_id).toBe(id);
    }
  });
});

describe('POST /user_delete/{id}', () => {
  it('a user deleting themselves is forwarded', async () => {
    const self = newSub();
    h.rpc.reply = replyByRpc;
    const a = await send(`/user_delete/${self}`, { method: 'POST', token: await signToken(h.key, { sub: self }) });
    expect(a.status).toBe(200);
    expect(a.body.id).toBe(Number(self));
    expect(h.rpc.calls).toEqual([
      { rpc: 'users.delete', input: { user_id: Number(self) }, meta: { requestId: a.headers.get('x-request-id'), actorId: self, idempotencyKey: expect.stringMatching(/^gw-/) } },
    ]);
  });

  it('a user deleting someone else is refused without asking the service', async () => {
    const a = await send(`/user_delete/${newSub()}`, { method: 'POST', token: await signToken(h.key, { sub: newSub() }) });
    expectProblem(a, 403, 'permission_denied');
    expect(a.headers.get('www-authenticate')).toBeNull();
    expect(h.rpc.calls).toEqual([]);
  });

  it('an admin deleting anyone is forwarded', async () => {
    const adminId = newSub();
    const victim = newSub();
    h.rpc.reply = replyByRpc;
    const a = await send(`/user_delete/${victim}`, { method: 'POST', token: await signToken(h.key, { sub: adminId, role: 'admin' }) });
    expect(a.status).toBe(200);
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'users.delete',
        input: { user_id: Number(victim) },
        meta: { requestId: a.headers.get('x-request-id'), actorId: adminId, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it.each(['not-an-id', '0', '0123', randomUUID(), '9007199254740992', "1'%20OR%20'1'='1"])('a malformed id (%s) is 404 for an admin', async (id) => {
    const a = await send(`/user_delete/${id}`, { method: 'POST', token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a malformed id is 404 for a user too, and without a token: it names nothing', async () => {
    expectProblem(await send('/user_delete/not-an-id', { method: 'POST', token: await signToken(h.key) }), 404, 'not_found');
    expectProblem(await send('/user_delete/not-an-id', { method: 'POST' }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });

  it('GET is 405 with Allow: POST', async () => {
    const a = await send(`/user_delete/${newSub()}`, { token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('POST');
    expect(h.rpc.calls).toEqual([]);
  });
});

describe('service errors map to HTTP', () => {
  const cases: [string, () => Error, number][] = [
    ['already_exists', () => new AppError('already_exists', 'users.username_taken', 'The username is taken'), 409],
    ['not_found', () => new AppError('not_found', 'users.not_found', 'No such user'), 404],
    ['unavailable', () => new AppError('unavailable', 'rpc.no_responders', 'The users service is not available'), 503],
    ['timeout', () => new AppError('timeout', 'rpc.timeout', 'The users service did not answer in time'), 504],
    ['permission_denied', () => new AppError('permission_denied', 'access.forbidden', 'Not allowed'), 403],
    ['bad_request', () => new AppError('bad_request', 'rpc.payload_not_json', 'Request payload is not JSON'), 400],
    ['unauthenticated', () => new AppError('unauthenticated', 'auth.invalid_credentials', 'Wrong username or password'), 401],
  ];

  it.each(cases)('%s → %i with the service message as detail', async (code, error, status) => {
    h.rpc.reply = () => {
      throw error();
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, status, code);
    expect(a.body.detail).toBe(error().message);
    expect(a.body.errors).toBeUndefined();
    expect(h.rpc.calls).toHaveLength(1);
  });

  it('invalid_argument → 422 with the field errors', async () => {
    const fields = [
      { field: 'email', message: 'is already registered' },
      { field: 'username', message: 'is reserved' },
    ];
    h.rpc.reply = () => {
      throw new AppError('invalid_argument', 'users.invalid', 'Invalid input', fields);
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors).toEqual(fields);
  });

  it('resource_exhausted → 429 with Retry-After', async () => {
    h.rpc.reply = () => {
      throw new AppError('resource_exhausted', 'users.registration_rate_limited', 'Try again later', undefined, { retryAfterSeconds: 30 });
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 429, 'resource_exhausted');
    expect(a.headers.get('retry-after')).toBe('30');
  });

  it('an internal AppError → 500 without its message', async () => {
    h.rpc.reply = () => {
      throw new AppError('internal', 'internal.unexpected', 'secret internal detail', undefined, { cause: new Error('pg: password authentication failed') });
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('secret internal detail');
    expect(a.text).not.toContain('password authentication');
    expect(a.text).not.toContain('internal.unexpected');
    expect(a.body.detail).toMatch(/request id/);
  });

  it('a plain thrown Error → 500 without its message or stack', async () => {
    h.rpc.reply = () => {
      throw new Error('secret internal detail');
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('secret internal detail');
    expect(a.text).not.toMatch(/at .*\.ts:\d+/);
    expect(Object.keys(a.body).sort()).toEqual(['code', 'detail', 'request_id', 'status', 'title', 'type']);
  });

  it('a thrown non-Error value → 500', async () => {
    h.rpc.reply = () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is tested is a thrown non-Error
      throw 'secret internal detail';
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500);
    expect(a.text).not.toContain('secret internal detail');
  });
});

describe('POST /register', () => {
  it('forwards the validated, normalised body and answers 201', async () => {
    const reply = userReply();
    h.rpc.reply = () => reply;
    const a = await postJson('/register', { ...validRegistration, username: '  alice_1 ', email: ' alice@example.com ', tags: ' b, a,b ', extra: 'dropped' });
    expect(a.status).toBe(201);
    expect(a.body).toEqual(reply);
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'users.register',
        input: { ...validRegistration, tags: ['b', 'a'], client_ip: '127.0.0.1', attributes: {} },
        meta: { requestId: a.headers.get('x-request-id'), actorId: null, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it('never forwards a role or a client address from the body', async () => {
    h.rpc.reply = replyByRpc;
    const a = await postJson('/register', { ...validRegistration, role: 'admin', client_ip: '203.0.113.9' });
    expect(a.status, a.text).toBe(201);
    expect(a.body.role).toBe('user');
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.register', input: { ...validRegistration, client_ip: '127.0.0.1', attributes: {} } })]);
  });

  it('does not take the client address from X-Forwarded-For unless told to trust a proxy', async () => {
    h.rpc.reply = replyByRpc;
    const a = await postJson('/register', validRegistration, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(a.status).toBe(201);
    expect((h.rpc.calls[0]!.input as { client_ip: string }).client_ip).toBe('127.0.0.1');
  });

  it('behind a trusted proxy, forwards the client address the proxy reports', async () => {
    const behindProxy = await startGateway(undefined, { trustProxy: 'loopback' });
    try {
      behindProxy.rpc.reply = replyByRpc;
      const viaProxy = requester(() => behindProxy);
      const a = await viaProxy.postJson('/register', validRegistration, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(a.status).toBe(201);
      const b = await viaProxy.postJson('/login', { username: 'alice_1', password: 'secret' }, { headers: { 'x-forwarded-for': '198.51.100.4, 127.0.0.1' } });
      expect(b.status).toBe(200);
      expect(behindProxy.rpc.calls.map((c) => [c.rpc, (c.input as { client_ip: string }).client_ip])).toEqual([
        ['users.register', '203.0.113.9'],
        ['auth.login', '198.51.100.4'],
      ]);
    } finally {
      await behindProxy.close();
    }
  });

  it('defaults tags to []', async () => {
    h.rpc.reply = () => userReply();
    const { tags: _t, ...noTags } = validRegistration;
    expect((await postJson('/register', noTags)).status).toBe(201);
    expect((h.rpc.calls[0]!.input as { tags: unknown }).tags).toEqual([]);
  });

  it('answers 422 with one entry per bad field and does not call the service', async () => {
    const a = await postJson('/register', {
      username: 'a b',
      email: 'not-an-email',
      password: 'short',
      fio: '   ',
      birthday: '2020-13-01',
      tags: 5,
    });
    expectProblem(a, 422, 'invalid_argument');
    const fields = (a.body.errors as { field: string; message: string }[]).map((e) => e.field);
    expect(fields.sort()).toEqual(['birthday', 'email', 'fio', 'password', 'tags', 'username']);
    for (const e of a.body.errors) expect(e.message.length).toBeGreaterThan(0);
    expect(a.body.errors).toContainEqual({ field: 'birthday', message: 'must be a real calendar date' });
    expect(a.body.errors).toContainEqual({ field: 'password', message: 'must be at least 8 characters' });
    expect(h.rpc.calls).toEqual([]);
  });

  it('names every missing field as required', async () => {
    const a = await postJson('/register', {});
    expectProblem(a, 422);
    expect(a.body.errors).toEqual(expect.arrayContaining(['username', 'email', 'password', 'fio', 'birthday'].map((field) => ({ field, message: 'is required' }))));
    expect(a.body.errors).toHaveLength(5);
    expect(h.rpc.calls).toEqual([]);
  });

  it('malformed JSON → 400', async () => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": "alice",' });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it('a body over 100 KB → 413', async () => {
    const a = await postJson('/register', { ...validRegistration, fio: 'x'.repeat(101 * 1024) });
    expectProblem(a, 413);
    expect(h.rpc.calls).toEqual([]);
  });

  it('a body just under 100 KB is read (and then validated)', async () => {
    const a = await postJson('/register', { ...validRegistration, fio: 'x'.repeat(99 * 1024) });
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'fio', message: 'must be at most 200 characters' }]);
  });

  it('text/plain → 415', async () => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(validRegistration) });
    expectProblem(a, 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('no body at all → 415', async () => {
    const a = await send('/register', { method: 'POST' });
    expectProblem(a, 415);
  });

  it.each([
    ['an array', '[1, 2]'],
    ['an array of the right object', JSON.stringify([validRegistration])],
  ])('a JSON body that is %s → 400', async (_label, body) => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(['"a string"', 'null', '42'])('a JSON scalar body %s → 400', async (body) => {
    const a = await send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expectProblem(a, 400, 'bad_request');
    expect(h.rpc.calls).toEqual([]);
  });

  it('an unsupported content encoding → 415', async () => {
    const a = await send('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      body: JSON.stringify(validRegistration),
    });
    expectProblem(a, 415);
  });

  it('GET /register → 405 with Allow', async () => {
    const a = await send('/register');
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('POST');
  });

  // every method of a path, its aliases' included, and nothing else
  it.each([
    ['PATCH', '/users', ['GET', 'POST', 'PUT', 'DELETE']],
    ['POST', `/users/${newSub()}`, ['GET', 'PATCH', 'DELETE', 'PUT']],
    ['GET', '/users/me/password', ['PUT']],
    ['GET', `/users/${newSub()}/role`, ['PUT']],
    ['DELETE', `/users/${newSub()}/history`, ['GET']],
    ['GET', '/logout', ['POST']],
    ['GET', '/refresh', ['POST']],
    ['POST', '/.well-known/jwks.json', ['GET']],
    ['GET', '/auth/register', ['POST']],
    ['GET', '/auth/login', ['POST']],
    ['GET', '/refresh_jwt', ['POST']],
    ['POST', '/user', ['GET']],
  ])('%s %s → 405 with Allow: %j', async (method, path, allowed) => {
    const a = await send(path, { method, token: await signToken(h.key, { role: 'admin' }) });
    expectProblem(a, 405);
    const allow = a.headers.get('allow')!.split(', ');
    expect(allow.length).toBe(new Set(allow).size);
    expect(allow.sort()).toEqual([...allowed].sort());
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(['DELETE', 'PATCH', 'PUT', 'POST'])('%s /users/search → 405 with Allow: GET, not a call about a user named "search"', async (method) => {
    for (const token of [await signToken(h.key, { role: 'admin' }), await signToken(h.key), undefined]) {
      const a = await send('/users/search', { method, ...(token ? { token } : {}), ...(method === 'DELETE' ? {} : { json: { fio: 'X' } }) });
      expectProblem(a, 405);
      expect(a.headers.get('allow')).toBe('GET');
    }
    expect(h.rpc.calls).toEqual([]);
  });

  it('GET and HEAD /users/search still search; DELETE /users/me is still the caller deleting themselves', async () => {
    h.rpc.reply = replyByRpc;
    const token = await signToken(h.key);
    expect((await send('/users/search?username=alice', { token })).status).toBe(200);
    expect((await send('/users/search?username=alice', { method: 'HEAD', token })).status).toBe(200);
    expect((await send('/users/me', { method: 'DELETE', token })).status).toBe(204);
  });

  it('an unknown path → 404 problem+json', async () => {
    const a = await send('/nope/nothing-here');
    expectProblem(a, 404, 'not_found');
    expect(a.body.detail).toContain('/nope/nothing-here');
  });
});

describe('POST /login', () => {
  const rpcReply = loginRpcReply();
  const token = loginReply(rpcReply.user);

  it('accepts JSON and forwards the trimmed username', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: '  alice_1 ', password: ' p@ss word ' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(token);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'auth.login',
        input: { username: 'alice_1', password: ' p@ss word ', client_ip: '127.0.0.1' },
        meta: { requestId: a.headers.get('x-request-id'), actorId: null, idempotencyKey: expect.stringMatching(/^gw-/) },
      },
    ]);
  });

  it('accepts the OAuth2 password form', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice@example.com', password: 'p&ss=word+1', grant_type: 'password' }).toString(),
    });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(token);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([
      {
        rpc: 'auth.login',
        input: { username: 'alice@example.com', password: 'p&ss=word+1', grant_type: 'password', client_ip: '127.0.0.1' },
        meta: expect.objectContaining({ actorId: null }),
      },
    ]);
  });

  it('answers the tokens and the user as auth-service sends them', async () => {
    const user = userReply(newUserId(), { role: 'admin', email_verified: true });
    h.rpc.reply = () => ({ ...loginRpcReply(user), internal: 'dropped by the contract' });
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual(loginReply(user));
    expect(Object.keys(a.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type', 'user']);
  });

  it('sets the device cookie auth-service issued (HttpOnly, SameSite=Strict), never in the body, and sends it back on the next login', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expect(a.status).toBe(200);
    expect(a.text).not.toContain(DEVICE_TOKEN);
    const cookie = a.headers.get('set-cookie')!;
    expect(cookie).toBe(`um_device=${DEVICE_TOKEN}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict`);

    const b = await send('/login', { method: 'POST', json: { username: 'alice_1', password: 'secret' }, headers: { cookie: `other=1; um_device=${DEVICE_TOKEN}` } });
    expect(b.status).toBe(200);
    expect(h.rpc.calls.at(-1)).toEqual(expect.objectContaining({ input: expect.objectContaining({ device_token: DEVICE_TOKEN }) }));
  });

  it('never takes the client address from the body', async () => {
    h.rpc.reply = () => rpcReply;
    const a = await postJson('/login', { username: 'alice_1', password: 'secret', client_ip: '203.0.113.9' });
    expect(a.status).toBe(200);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ input: { username: 'alice_1', password: 'secret', client_ip: '127.0.0.1' } })]);
  });

  it('a reply that breaks the contract is a 500, not passed on', async () => {
    h.rpc.reply = () => ({ access_token: 'a.b.c', token_type: 'bearer', expires_in: 900 });
    const a = await postJson('/login', { username: 'alice_1', password: 'secret' });
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('a.b.c');
  });

  it('takes a form only where the API document says so: a form to POST /refresh is 415', async () => {
    const a = await send('/refresh', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'refresh_token=abc' });
    expectProblem(a, 415);
    expect(h.rpc.calls).toEqual([]);
  });

  it('refuses another grant type', async () => {
    const a = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=secret&grant_type=client_credentials',
    });
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'grant_type', message: 'must be "password"' }]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('bad credentials from auth-service → 401', async () => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Wrong username or password');
    };
    const a = await postJson('/login', { username: 'alice', password: 'wrong' });
    expectProblem(a, 401, 'unauthenticated');
    expect(a.body.detail).toBe('Wrong username or password');
    expect(a.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });
});

describe('GET /users paging', () => {
  let token: string;
  beforeAll(async () => {
    token = await signToken(h.key);
  });

  const page = (total: number, more: { next_cursor?: string | null; total_exact?: boolean; limit?: number } = {}) => ({
    items: [userReply(), userReply()],
    total,
    total_exact: true,
    limit: 100,
    next_cursor: null,
    ...more,
  });

  it('leaves the page size to the service without limit (MAX_PAGE_SIZE), with X-Total-Count', async () => {
    h.rpc.reply = () => page(2, { limit: 1000 });
    const a = await send('/users', { token });
    expect(a.status).toBe(200);
    expect(a.body).toHaveLength(2);
    expect(h.rpc.calls[0]!.input).toEqual({ offset: 0 });
    expect(a.headers.get('x-total-count')).toBe('2');
    expect(a.headers.get('x-total-count-exact')).toBe('true');
    expect(a.headers.get('link')).toBeNull();
  });

  it('links the next page by its cursor, replacing the offset and keeping limit and other parameters', async () => {
    h.rpc.reply = () => page(250, { next_cursor: 'WyJuZXh0Il0', limit: 10 });
    const a = await send('/users?sort=x&limit=10&offset=20', { token });
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 10, offset: 20 });
    expect(a.headers.get('link')).toBe('</users?sort=x&limit=10&cursor=WyJuZXh0Il0>; rel="next", </users?sort=x&limit=10&offset=10>; rel="prev"');
  });

  it('forwards a cursor; cursor pages have no prev link', async () => {
    h.rpc.reply = () => page(250, { next_cursor: 'WyJiIl0', limit: 10 });
    const a = await send('/users?limit=10&cursor=WyJhIl0', { token });
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 10, offset: 0, cursor: 'WyJhIl0' });
    expect(a.headers.get('link')).toBe('</users?limit=10&cursor=WyJiIl0>; rel="next"');
  });

  it('says when X-Total-Count is an estimate', async () => {
    h.rpc.reply = () => page(123_456, { total_exact: false, next_cursor: 'WyJiIl0' });
    const a = await send('/users', { token });
    expect(a.headers.get('x-total-count')).toBe('123456');
    expect(a.headers.get('x-total-count-exact')).toBe('false');
  });

  it('has only prev on the last page, never a negative offset', async () => {
    h.rpc.reply = () => page(25, { limit: 10 });
    const b = await send('/users?limit=10&offset=20', { token });
    expect(b.headers.get('link')).toBe('</users?limit=10&offset=10>; rel="prev"');
    h.rpc.reply = () => page(5, { limit: 10 });
    const a = await send('/users?limit=10&offset=1', { token });
    expect(a.headers.get('link')).toBe('</users?limit=10&offset=0>; rel="prev"');
  });

  it('has no Link when everything fits', async () => {
    h.rpc.reply = () => ({ items: [], total: 0, total_exact: true, limit: 1000, next_cursor: null });
    const a = await send('/users', { token });
    expect(a.status).toBe(200);
    expect(a.body).toEqual([]);
    expect(a.headers.get('x-total-count')).toBe('0');
    expect(a.headers.get('link')).toBeNull();
  });

  it.each([
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=0', 'limit'],
    ['limit=1.5', 'limit'],
    ['offset=-1', 'offset'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=a%2Bb', 'cursor'],
    ['cursor=', 'cursor'],
  ])('%s → 422', async (q, field) => {
    const a = await send(`/users?${q}`, { token });
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('limit=1000 is allowed', async () => {
    h.rpc.reply = () => page(2);
    expect((await send('/users?limit=1000', { token })).status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 1000, offset: 0 });
  });
});

describe('GET /users/search', () => {
  let token: string;
  beforeAll(async () => {
    token = await signToken(h.key);
  });

  const hostile = ['%', '_', "'; DROP TABLE users; --", 'a\\b\\\\c\\', '%_\\%', 'Иван 山田 😀 e\u0301', '"quoted" <b>x</b>', '$1 OR 1=1', '*)(uid=*'];

  it.each(hostile)('forwards %j verbatim as data', async (needle) => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    const q = new URLSearchParams({ username: needle, email: needle, fio: `  ${needle}  ` });
    const a = await send(`/users/search?${q.toString()}`, { token });
    expect(a.status, a.text).toBe(200);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.search', input: { offset: 0, username: needle, email: needle, fio: needle, attributes: {} } })]);
  });

  it('splits tags and keeps the filters in the paging links', async () => {
    h.rpc.reply = () => ({ items: [userReply()], total: 500, total_exact: true, limit: 5, next_cursor: 'WyJ4Il0' });
    const a = await send(`/users/search?tags=a,b&fio=${encodeURIComponent("'; DROP TABLE users; --")}&birthday=1990-01-02&limit=5`, { token });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 5, offset: 0, tags: ['a', 'b'], fio: "'; DROP TABLE users; --", birthday: '1990-01-02', attributes: {} });
    const next = /<([^>]+)>; rel="next"/.exec(a.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const u = new URL(next!, h.url);
    expect(u.pathname).toBe('/users/search');
    expect(Object.fromEntries(u.searchParams)).toEqual({ tags: 'a,b', fio: "'; DROP TABLE users; --", birthday: '1990-01-02', limit: '5', cursor: 'WyJ4Il0' });
  });

  it('accepts repeated tags parameters', async () => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    await send('/users/search?tags=x&tags=%20y%20&tags=x', { token });
    expect((h.rpc.calls[0]!.input as { tags: string[] }).tags).toEqual(['x', 'y']);
  });

  it.each([
    ['birthday=2020-13-01', 'birthday'],
    ['birthday=1990-1-2', 'birthday'],
    ['username=%20%20', 'username'],
    [`fio=${'x'.repeat(201)}`, 'fio'],
    [`tags=${'t'.repeat(51)}`, 'tags'],
  ])('%s → 422', async (q, field) => {
    const a = await send(`/users/search?${q.toString()}`, { token });
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(h.rpc.calls).toEqual([]);
  });
});

describe('X-Request-Id', () => {
  it('echoes a valid id and forwards it to the service', async () => {
    h.rpc.reply = () => userReply();
    const id = 'client-req_42:a.b@c';
    const a = await postJson('/register', validRegistration, { headers: { 'x-request-id': id } });
    expect(a.status).toBe(201);
    expect(a.headers.get('x-request-id')).toBe(id);
    expect(h.rpc.calls[0]!.meta.requestId).toBe(id);
  });

  it('accepts 128 characters', async () => {
    const id = 'r'.repeat(128);
    const a = await send('/healthz', { headers: { 'x-request-id': id } });
    expect(a.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['spaces', 'has spaces in it'],
    ['300 characters', 'x'.repeat(300)],
    ['129 characters', 'x'.repeat(129)],
    ['a slash', 'a/b'],
    ['quotes', '"abc"'],
  ])('replaces an id with %s by a generated one', async (_label, id) => {
    h.rpc.reply = () => userReply();
    const a = await postJson('/register', validRegistration, { headers: { 'x-request-id': id } });
    const got = a.headers.get('x-request-id');
    expect(got).not.toBe(id);
    expect(got).toMatch(UUID_RE);
    expect(h.rpc.calls[0]!.meta.requestId).toBe(got);
  });

  it('generates a distinct id per request when none is given', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await send('/healthz')).headers.get('x-request-id')));
    for (const id of ids) expect(id).toMatch(UUID_RE);
    expect(new Set(ids).size).toBe(3);
  });

  it('is quoted in problem bodies', async () => {
    const a = await send('/nope', { headers: { 'x-request-id': 'quote-me' } });
    expect(a.body.request_id).toBe('quote-me');
  });
});

describe('infrastructure endpoints', () => {
  it('GET /healthz → 200', async () => {
    const a = await send('/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 when ready', async () => {
    const a = await send('/readyz');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok', checks: { nats: 'ok', users: 'ok', auth: 'ok' } });
  });

  it('GET /readyz → 503 when not ready', async () => {
    h.readiness.value = { ok: false, checks: { nats: 'ok', users: 'unavailable', auth: 'ok' } };
    const a = await send('/readyz');
    expect(a.status).toBe(503);
    expect(a.body).toEqual({ status: 'unavailable', checks: { nats: 'ok', users: 'unavailable', auth: 'ok' } });
  });

  it('POST /healthz → 405', async () => {
    const a = await send('/healthz', { method: 'POST' });
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('GET');
  });

  it('the OpenAPI document shows user ids as integers: in users, in paths, in history', async () => {
    const doc = (await send('/openapi.json')).body;
    const integerId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
    const me = doc.paths['/users/me'].get.responses['200'].content['application/json'].schema;
    const user = me.$ref ? doc.components.schemas[me.$ref.split('/').pop()] : me;
    expect(user.properties.id).toMatchObject(integerId);
    for (const [path, method] of [
      ['/users/{user_id}', 'get'],
      ['/users/{user_id}', 'patch'],
      ['/users/{user_id}', 'put'],
      ['/users/{user_id}', 'delete'],
      ['/users/{user_id}/role', 'put'],
      ['/users/{user_id}/history', 'get'],
      ['/user_delete/{user_id}', 'post'],
    ] as const) {
      const param = doc.paths[path][method].parameters.find((p: { name: string }) => p.name === 'user_id');
      expect(param, `${method} ${path}`).toMatchObject({ in: 'path', required: true, schema: integerId });
    }
    const entry = doc.paths['/users/{user_id}/history'].get.responses['200'].content['application/json'].schema.items;
    expect(entry.properties.actor_id).toMatchObject({ type: ['integer', 'null'] });
    expect(JSON.stringify(doc)).not.toMatch(/"id":\{[^}]*"format":"uuid"/);
  });

  it('GET /openapi.json → an OpenAPI 3.1 document with every route', async () => {
    const a = await send('/openapi.json');
    expect(a.status).toBe(200);
    expect(a.body.openapi).toBe('3.1.0');
    expect(Object.keys(a.body.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/auth/login',
      '/auth/register',
      '/confirm-email',
      '/confirm-email/resend',
      '/healthz',
      '/login',
      '/login/mfa',
      '/logout',
      '/openapi.json',
      '/password/forgot',
      '/password/reset',
      '/readyz',
      '/refresh',
      '/refresh_jwt',
      '/register',
      '/user',
      '/user_delete/{user_id}',
      '/users',
      '/users/me',
      '/users/me/mfa/totp',
      '/users/me/mfa/totp/confirm',
      '/users/me/password',
      '/users/search',
      '/users/{user_id}',
      '/users/{user_id}/history',
      '/users/{user_id}/mfa/totp',
      '/users/{user_id}/role',
    ]);
    // each path with exactly its routes' and aliases' methods
    const methods = (path: string) => Object.keys(a.body.paths[path]).sort();
    expect(methods('/users')).toEqual(['delete', 'get', 'post', 'put']);
    expect(methods('/users/{user_id}')).toEqual(['delete', 'get', 'patch', 'put']);
    expect(a.body.paths['/users'].put.summary).toMatch(/^Change your own profile as spec 003 does/);
    // the alias for yourself has no path parameter; like every non-GET route it takes an Idempotency-Key
    expect(a.body.paths['/users'].put.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]);
    for (const [path, ops] of Object.entries(a.body.paths as Record<string, Record<string, { parameters?: Array<{ name: string }> }>>))
      for (const [method, op] of Object.entries(ops))
        expect(
          (op.parameters ?? []).some((p) => p.name === 'Idempotency-Key'),
          `${method} ${path}`,
        ).toBe(method !== 'get');
    expect(a.body.paths['/user'].get.security).toEqual([{ bearer: [] }]);
    expect(methods('/users/me/password')).toEqual(['put']);
    expect(methods('/users/{user_id}/role')).toEqual(['put']);
    expect(methods('/refresh')).toEqual(['post']);
    expect(methods('/logout')).toEqual(['post']);
    expect(a.body.paths['/users'].post.responses['201']).toBeDefined();
    expect(a.body.paths['/logout'].post.responses['204']).toBeDefined();
    expect(a.body.paths['/users/{user_id}'].delete.responses['204']).toBeDefined();
    expect(a.body.paths['/refresh'].post.security).toEqual([]);
    expect(a.body.paths['/.well-known/jwks.json'].get.security).toEqual([]);
    for (const [path, method] of [
      ['/logout', 'post'],
      ['/users', 'post'],
      ['/users/me', 'get'],
      ['/users/me/password', 'put'],
      ['/users/{user_id}', 'get'],
      ['/users/{user_id}', 'patch'],
      ['/users/{user_id}', 'delete'],
      ['/users/{user_id}/role', 'put'],
      ['/users/{user_id}/history', 'get'],
    ] as const)
      expect(a.body.paths[path][method].security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    expect(Object.keys(a.body.paths['/users/{user_id}'].patch.requestBody.content['application/json'].schema.properties).sort()).toEqual([
      'birthday',
      'email',
      'fio',
      'tags',
      'username',
    ]);
    expect(Object.keys(a.body.paths['/register'])).toEqual(['post']);
    expect(a.body.paths['/register'].post.responses['201']).toBeDefined();
    expect(a.body.paths['/register'].post.security).toEqual([]);
    expect(a.body.paths['/users'].get.security).toEqual([{ bearer: [] }]);
    expect(a.body.paths['/user_delete/{user_id}'].post.security).toEqual([{ bearer: [] }]);
    expect(a.body.paths['/user_delete/{user_id}'].post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'user_id', in: 'path', required: true })]));
    const search = a.body.paths['/users/search'].get.parameters.map((p: { name: string }) => p.name).sort();
    expect(search).toEqual(['birthday', 'cursor', 'email', 'fio', 'limit', 'offset', 'tags', 'username']);
    expect(a.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('does not say which framework it runs on', async () => {
    const a = await send('/healthz');
    expect(a.headers.get('x-powered-by')).toBeNull();
  });
});

describe('GET /confirm-email', () => {
  it('forwards the token without authentication and answers only the outcome, no-store', async () => {
    h.rpc.reply = () => userReply();
    const a = await send('/confirm-email?token=abc123');
    expect(a.status).toBe(200);
    // links get forwarded: whoever opens one learns nothing about the account
    expect(a.body).toEqual({ status: 'confirmed' });
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.confirm_email', input: { token: 'abc123' }, meta: expect.objectContaining({ actorId: null }) })]);
  });

  it('without a token → 422', async () => {
    const a = await send('/confirm-email');
    expectProblem(a, 422);
    expect(a.body.errors).toEqual([{ field: 'token', message: 'is required' }]);
  });
});

describe('POST /confirm-email/resend', () => {
  it('asks for the caller, never for an id from the request', async () => {
    const self = newSub();
    h.rpc.reply = replyByRpc;
    const a = await postJson('/confirm-email/resend', { user_id: newUserId() }, { token: await signToken(h.key, { sub: self }) });
    expect(a.status).toBe(202);
    expect(a.body).toEqual({ status: 'accepted' });
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.request_email_confirmation', input: { user_id: Number(self) } })]);
  });
});

describe('security headers', () => {
  /** One request per public route (the protected ones are in `protectedRequests`). */
  const publicRequests: Record<string, RouteRequest> = {
    'GET /healthz': { method: 'GET', path: () => '/healthz', ok: 200, rpc: '' },
    'GET /readyz': { method: 'GET', path: () => '/readyz', ok: 200, rpc: '' },
    'GET /openapi.json': { method: 'GET', path: () => '/openapi.json', ok: 200, rpc: '' },
    'GET /asyncapi.json': { method: 'GET', path: () => '/asyncapi.json', ok: 200, rpc: '' },
    'GET /metrics': { method: 'GET', path: () => '/metrics', ok: 200, rpc: '' },
    'GET /docs': { method: 'GET', path: () => '/docs', ok: 200, rpc: '' },
    'GET /.well-known/jwks.json': { method: 'GET', path: () => '/.well-known/jwks.json', ok: 200, rpc: 'auth.jwks' },
    'POST /register': { method: 'POST', path: () => '/register', body: validRegistration, ok: 201, rpc: 'users.register' },
    'POST /login': { method: 'POST', path: () => '/login', body: { username: 'alice_1', password: 'secret pass' }, ok: 200, rpc: 'auth.login' },
    'POST /refresh': { method: 'POST', path: () => '/refresh', body: { refresh_token: 'abc' }, ok: 200, rpc: 'auth.refresh' },
    'POST /refresh_jwt': { method: 'POST', path: () => '/refresh_jwt?refresh_token=abc', ok: 200, rpc: 'auth.refresh' },
    'POST /auth/register': {
      method: 'POST',
      path: () => '/auth/register',
      body: { name: 'Alice', email: 'alice@example.com', password: 'correct horse battery' },
      ok: 201,
      rpc: 'users.register',
    },
    'POST /auth/login': { method: 'POST', path: () => '/auth/login', body: { email: 'alice@example.com', password: 'secret pass' }, ok: 200, rpc: 'auth.login' },
    'GET /confirm-email': { method: 'GET', path: () => '/confirm-email?token=abc', ok: 200, rpc: 'users.confirm_email' },
    'POST /login/mfa': { method: 'POST', path: () => '/login/mfa', body: { ticket: 't', code: '123456' }, ok: 200, rpc: 'auth.login_mfa' },
    'POST /password/forgot': { method: 'POST', path: () => '/password/forgot', body: { email: 'a@example.com' }, ok: 202, rpc: 'users.request_password_reset' },
    'POST /password/reset': { method: 'POST', path: () => '/password/reset', body: { token: 't', password: 'a new password 1' }, ok: 200, rpc: 'auth.reset_password' },
  };
  const everyRoute = { ...publicRequests, ...protectedRequests, ...aliasRequests };
  /** The explicitly public, cacheable answers; everything else is no-store. */
  const cacheable: Record<string, string> = {
    'GET /.well-known/jwks.json': 'public, max-age=300',
    'GET /openapi.json': 'public, max-age=300',
    'GET /asyncapi.json': 'public, max-age=300',
    'GET /docs': 'public, max-age=300',
  };
  /** The docs page runs scripts of its own origin; every other answer none at all. */
  const policies: Record<string, string> = { 'GET /docs': DOCS_CSP };

  function expectSecurityHeaders(a: Answer, cacheControl = 'no-store', csp = "default-src 'none'; frame-ancestors 'none'") {
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    expect(a.headers.get('x-frame-options')).toBe('DENY');
    expect(a.headers.get('content-security-policy')).toBe(csp);
    expect(a.headers.get('referrer-policy')).toBe('no-referrer');
    expect(a.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(a.headers.get('cache-control')).toBe(cacheControl);
    // plain http here: no HSTS
    expect(a.headers.get('strict-transport-security')).toBeNull();
  }

  const reply = (rpc: string, input: any) => {
    if (rpc === 'auth.jwks') return { keys: [h.key.jwk] };
    if (rpc === 'users.confirm_email') return userReply();
    return replyByRpc(rpc, input);
  };

  it('covers every route in the policy table and every alias', () => {
    expect(Object.keys({ ...publicRequests, ...protectedRequests }).sort()).toEqual(Object.keys(policy).sort());
  });

  it.each(Object.entries(everyRoute))('%s: on its success answer', async (_key, r) => {
    h.rpc.reply = reply;
    const self = newSub();
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self, role: 'admin' }) });
    expect(a.status, a.text).toBe(r.ok);
    expectSecurityHeaders(a, cacheable[_key], policies[_key]);
  });

  // (the liveness probe, the API documents, their page and the metrics are answered by the gateway itself and cannot fail)
  const canFail = Object.entries(everyRoute).filter(([k]) => !['GET /healthz', 'GET /openapi.json', 'GET /asyncapi.json', 'GET /metrics', 'GET /docs'].includes(k));
  it.each(canFail)('%s: on its error answer', async (_key, r) => {
    h.rpc.reply = () => {
      throw new AppError('unavailable', 'rpc.no_responders', 'The service is not available');
    };
    h.readiness.value = { ok: false, checks: { nats: 'unavailable', users: 'unavailable', auth: 'unavailable' } };
    const self = newSub();
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self, role: 'admin' }) });
    expect(a.status, a.text).toBeGreaterThanOrEqual(400);
    // (/readyz answers its own 503 body, not a problem)
    if (_key !== 'GET /readyz') expectProblem(a, a.status);
    expectSecurityHeaders(a);
  });

  it.each([
    ['an unknown path', () => send('/nowhere')],
    ['a wrong method', () => send('/register', { method: 'GET' })],
    ['malformed JSON', () => send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })],
    ['no token', () => send('/users/me')],
    ['a body too large', () => postJson('/register', { fio: 'x'.repeat(200_000) })],
  ])('problem answers carry them too: %s', async (_name, request) => {
    const a = await request();
    expectProblem(a, a.status);
    expectSecurityHeaders(a);
  });

  it('adds Strict-Transport-Security only to a request that came over https (as a trusted proxy reports)', async () => {
    const behindProxy = await startGateway(undefined, { trustProxy: 'loopback' });
    try {
      const viaProxy = requester(() => behindProxy);
      const https = await viaProxy.send('/healthz', { headers: { 'x-forwarded-proto': 'https' } });
      const http = await viaProxy.send('/healthz', { headers: { 'x-forwarded-proto': 'http' } });
      expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(http.headers.get('strict-transport-security')).toBeNull();
      // an untrusted client cannot turn it on by claiming https
      expect((await send('/healthz', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    } finally {
      await behindProxy.close();
    }
  });
});
