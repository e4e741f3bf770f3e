import { randomBytes, randomUUID } from 'node:crypto';
import { Rpcs, type LoginRpcReply, type LoginTokens, type Rpc, type User } from '@um/contracts';
import { AppError, createLogger, createPool, IdempotencyStore, migrate, serverSecret, sha256 } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelEmailChange, changePassword, logout, reauthenticate } from '../src/application/account.js';
import type { AuthDeps } from '../src/application/deps.js';
import { issueDeviceToken } from '../src/application/devices.js';
import { login, loginMfa, markPasswordChanged, refresh } from '../src/application/sessions.js';
import { eraseUser } from '../src/consumers/user-erasure.js';
import { ensureSigningKey, loadKeySet } from '../src/keys/key-store.js';
import { MIGRATIONS_DIR } from '../src/service.js';

const log = createLogger('auth-sessions-test', 'silent');
let schema: string;
let pool: ReturnType<typeof createPool>;
let keys: Awaited<ReturnType<typeof loadKeySet>>;
let throttleSecret: Buffer;
let deviceSecret: Buffer;

beforeAll(async () => {
  schema = uniqueId('t_auth');
  await migrate(testInfra().databaseUrl, schema, MIGRATIONS_DIR, log);
  pool = createPool(testInfra().databaseUrl, schema);
  await ensureSigningKey(pool, {});
  keys = await loadKeySet(pool, {});
  throttleSecret = await serverSecret(pool, 'throttle', {});
  deviceSecret = await serverSecret(pool, 'device', {});
});
afterAll(async () => {
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

const ctx = { requestId: 'test', actorId: null, log };
const wrongPassword = () => new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');

/** A user users-service knows, by username and by email. */
let lastUserId = 0;
function account(overrides: Partial<User> = {}): User & { password: string } {
  const s = randomUUID().slice(0, 8);
  return {
    id: ++lastUserId,
    username: `user_${s}`,
    email: `user_${s}@example.com`,
    config: { fio: 'S', birthday: '1990-01-01', tags: [] },
    role: 'user',
    email_verified: false,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    password: `right-${s}`,
    ...overrides,
  };
}

interface FakeUsers {
  users: Array<User & { password: string }>;
  /** Authorization version per user id (default 1). */
  versions: Map<number, number>;
  /** Replace the answer to verify_credentials (e.g. an outage, a slow check). */
  verify?: (input: { username: string; password: string }) => Promise<User>;
  down?: boolean;
}

/** users-service as auth-service sees it: resolve_login, verify_credentials, token_subject. */
function fakeUsers(f: FakeUsers) {
  const find = (login: string) => f.users.find((u) => u.username.toLowerCase() === login.trim().toLowerCase() || u.email.toLowerCase() === login.trim().toLowerCase());
  return async (rpc: Rpc, input: any): Promise<unknown> => {
    if (f.down) throw new AppError('unavailable', 'rpc.no_responders', 'The users service is not available');
    switch (rpc.name) {
      case Rpcs.users.resolveLogin.name: {
        const u = find(input.login);
        return { user_id: u?.id ?? null };
      }
      case Rpcs.users.verifyCredentials.name: {
        if (f.verify) return f.verify(input);
        const u = find(input.username);
        if (!u || u.password !== input.password) throw wrongPassword();
        const { password: _p, ...user } = u;
        return user;
      }
      case Rpcs.users.checkPasswordPolicy.name:
        return { ok: true };
      case Rpcs.users.verifyPassword.name: {
        const u = f.users.find((x) => x.id === input.user_id);
        if (!u || u.password !== input.password) throw new AppError('invalid_argument', 'users.wrong_password', 'The current password is wrong');
        const { password: _p, ...user } = u;
        return user;
      }
      case Rpcs.users.setPassword.name: {
        f.users.find((x) => x.id === input.user_id)!.password = input.password;
        return { ok: true };
      }
      case Rpcs.users.cancelEmailChange.name: {
        if (input.token !== 'cancel-link') throw new AppError('bad_request', 'users.email_change_link_invalid', 'This link is invalid, already used or expired');
        return { user_id: f.users[0]!.id, reverted: true };
      }
      case Rpcs.users.tokenSubject.name: {
        const u = f.users.find((x) => x.id === input.user_id);
        if (!u) throw new AppError('not_found', 'users.not_found', 'User not found');
        return { user_id: u.id, role: u.role, authz_version: f.versions.get(u.id) ?? 1 };
      }
    }
    throw new Error(`unexpected rpc ${rpc.name}`);
  };
}

/** auth-service's dependencies with users-service replaced by a fake. */
function deps(f: FakeUsers, overrides: Partial<AuthDeps> = {}): AuthDeps & { revoked: string[] } {
  const revoked: string[] = [];
  const answer = fakeUsers(f);
  return {
    pool,
    log,
    rpc: { call: (rpc, input) => answer(rpc, input) as never },
    signingKey: () => keys.signing,
    jwks: () => keys.jwks,
    revokeSessions: async (ids) => {
      revoked.push(...ids);
    },
    accessTokenTtl: 900,
    refreshTokenTtl: 3600,
    refreshReuseIntervalSeconds: 10,
    mfaTicketTtlSeconds: 300,
    reauthWindowSeconds: 600,
    throttle: { freeAttempts: 5, addressFreeAttempts: 100, accountMaxDelaySeconds: 60, addressMaxDelaySeconds: 900, windowSeconds: 900, ipv6Prefix: 64 },
    throttleSecret,
    deviceSecret,
    clock: () => new Date(),
    idempotency: new IdempotencyStore(throttleSecret),
    revoked,
    ...overrides,
  };
}

/** Tokens from a login that needed no second factor (none of these accounts has one). */
const tokens = (r: LoginRpcReply): LoginTokens => {
  if (!('access_token' in r)) throw new Error('expected tokens, got a second-factor challenge');
  return r;
};

const attempt = (d: AuthDeps, username: string, password: string, extra: { client_ip?: string; device_token?: string } = {}) =>
  login(d, { username, password, ...extra }, ctx).then(
    (r) => ({ outcome: 'ok' as const, reply: tokens(r), error: undefined }),
    (e: AppError) => ({ outcome: e.code, reply: undefined, error: e }),
  );

describe('login throttling counts failed password checks only', () => {
  it('counts a burst of concurrent guesses before checking them: five get through, the rest wait', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map(), verify: async () => (await new Promise((r) => setTimeout(r, 30)), Promise.reject(wrongPassword())) });
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(d, u.username, 'guess')));
    expect(results.filter((r) => r.outcome === 'unauthenticated')).toHaveLength(5);
    expect(results.filter((r) => r.outcome === 'resource_exhausted')).toHaveLength(15);
  });

  it('lets correct logins through however many there are: they never count', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    for (let i = 0; i < 12; i++) expect((await attempt(d, u.username, u.password, { client_ip: '198.51.100.1' })).outcome).toBe('ok');
  });

  it('fifty users behind one address, all at once, each log in correctly three times: all succeed', async () => {
    const users = Array.from({ length: 50 }, () => account());
    const d = deps({ users, versions: new Map() });
    const results = await Promise.all(
      users.map(async (u) => {
        const outcomes: string[] = [];
        for (let i = 0; i < 3; i++) outcomes.push((await attempt(d, u.email, u.password, { client_ip: '203.0.113.50' })).outcome);
        return outcomes;
      }),
    );
    expect(results.flat().filter((o) => o !== 'ok')).toEqual([]);
  });

  it('never counts a check users-service could not make (503/504)', async () => {
    const u = account();
    const f: FakeUsers = {
      users: [u],
      versions: new Map(),
      verify: async () => Promise.reject(new AppError('timeout', 'rpc.timeout', 'The users service did not answer in time')),
    };
    const d = deps(f);
    for (let i = 0; i < 10; i++) expect((await attempt(d, u.username, u.password)).outcome).toBe('timeout');
    delete f.verify;
    expect((await attempt(d, u.username, u.password)).outcome).toBe('ok');
    f.down = true;
    for (let i = 0; i < 10; i++) expect((await attempt(d, u.username, u.password)).outcome).toBe('unavailable');
    f.down = false;
    expect((await attempt(d, u.username, u.password)).outcome).toBe('ok');
  });

  it('a name counts however it is spelt, and the 429 says what is throttled and for how long', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    for (const name of [u.email, u.email.toUpperCase(), ` ${u.email} `, u.email, u.email]) expect((await attempt(d, name, 'wrong')).outcome).toBe('unauthenticated');
    const sixth = await attempt(d, u.email, u.password);
    expect(sixth.outcome).toBe('resource_exhausted');
    expect(sixth.error!.message).toBe('Too many failed attempts for this account; try again in 1 s');
    expect(sixth.error!.retryAfterSeconds).toBe(1);
  });

  it("counts per name as typed, so the counts never tell whether a username and an email are one account's", async () => {
    const [u, other] = [account(), account()];
    const d = deps({ users: [u, other], versions: new Map() });
    for (let i = 0; i < 5; i++) expect((await attempt(d, u.username, 'wrong')).outcome).toBe('unauthenticated');
    expect((await attempt(d, u.username.toUpperCase(), 'wrong')).outcome).toBe('resource_exhausted');
    // A wrong password for the same account's email is answered as for another account's email.
    const sameAccount = await attempt(d, u.email, 'wrong');
    const otherAccount = await attempt(d, other.email, 'wrong');
    expect(sameAccount.outcome).toBe('unauthenticated');
    expect([sameAccount.outcome, sameAccount.error!.id, sameAccount.error!.message]).toEqual([otherAccount.outcome, otherAccount.error!.id, otherAccount.error!.message]);
    // Nor the other way round: failures on the email leave the username's count as an unknown name's.
    for (let i = 0; i < 4; i++) await attempt(d, other.email, 'wrong');
    const afterEmail = await attempt(d, other.username, 'wrong');
    const unknown = await attempt(d, `nobody_${randomUUID().slice(0, 8)}`, 'wrong');
    expect([afterEmail.outcome, unknown.outcome]).toEqual(['unauthenticated', 'unauthenticated']);
    // The owner typing the email is not held up by a stranger hammering the username.
    expect((await attempt(d, u.email, u.password)).outcome).toBe('ok');
  });

  it('the address counter has its own, higher threshold', async () => {
    const users = Array.from({ length: 4 }, () => account());
    const d = deps(
      { users, versions: new Map() },
      { throttle: { freeAttempts: 5, addressFreeAttempts: 8, accountMaxDelaySeconds: 60, addressMaxDelaySeconds: 900, windowSeconds: 900, ipv6Prefix: 64 } },
    );
    const ip = '192.0.2.77';
    // 2 failures on each of 4 accounts: no account reaches 5, the address reaches 8.
    for (const u of users) for (let i = 0; i < 2; i++) expect((await attempt(d, u.username, 'wrong', { client_ip: ip })).outcome).toBe('unauthenticated');
    const next = await attempt(d, users[0]!.username, users[0]!.password, { client_ip: ip });
    expect(next.outcome).toBe('resource_exhausted');
    expect(next.error!.message).toMatch(/^Too many failed attempts from this address; try again in \d+ s$/);
    // Another address is not affected.
    expect((await attempt(d, users[0]!.username, users[0]!.password, { client_ip: '192.0.2.78' })).outcome).toBe('ok');
  });

  describe('one address counter per client, however its address is written', () => {
    const throttle = { freeAttempts: 5, addressFreeAttempts: 8, accountMaxDelaySeconds: 60, addressMaxDelaySeconds: 900, windowSeconds: 900, ipv6Prefix: 64 };
    /** Two failures on each of four accounts from `addresses` (8 in all), then the answer to a right password from `next`. */
    async function afterEightFailures(addresses: (i: number) => string, next: string, ipv6Prefix = 64) {
      const users = Array.from({ length: 4 }, () => account());
      const d = deps({ users, versions: new Map() }, { throttle: { ...throttle, ipv6Prefix } });
      let i = 0;
      for (const u of users) for (let k = 0; k < 2; k++) expect((await attempt(d, u.username, 'wrong', { client_ip: addresses(i++) })).outcome).toBe('unauthenticated');
      return { d, users, next: await attempt(d, users[0]!.username, users[0]!.password, { client_ip: next }) };
    }
    const net64 = () => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;

    it('an IPv6 client with a new address of its /64 for every try is one client', async () => {
      const net = net64();
      const { d, users, next } = await afterEightFailures((i) => `${net}:${randomBytes(2).toString('hex')}::${i + 1}`, `${net}::ffff`);
      expect(next.outcome).toBe('resource_exhausted');
      expect(next.error!.message).toMatch(/^Too many failed attempts from this address; try again in \d+ s$/);
      // The next /64 is another client.
      const [a, b, c] = net.split(':');
      expect((await attempt(d, users[0]!.username, users[0]!.password, { client_ip: `${a}:${b}:${c}:ffff::1` })).outcome).toBe('ok');
    });

    it('compressed, expanded, upper-case and zoned spellings of one address are one client', async () => {
      const net = net64();
      const spellings = [`${net}::1`, `${net}:0:0:0:1`, `${net}::1`.toUpperCase(), `${net}::1%eth0`];
      const { next } = await afterEightFailures((i) => spellings[i % spellings.length]!, `${net}:0000:0000:0000:0001`);
      expect(next.outcome).toBe('resource_exhausted');
    });

    it('an IPv4-mapped IPv6 address counts with its IPv4 address', async () => {
      const ip = `198.51.100.${1 + (randomBytes(1)[0]! % 200)}`;
      const { next } = await afterEightFailures((i) => (i % 2 ? `::ffff:${ip}` : ip), `::FFFF:${ip}`);
      expect(next.outcome).toBe('resource_exhausted');
    });

    it('THROTTLE_IPV6_PREFIX widens the network: with /48, every /64 of one /48 is one client', async () => {
      const [a, b, c] = net64().split(':');
      const { next } = await afterEightFailures((i) => `${a}:${b}:${c}:${i}::1`, `${a}:${b}:${c}:ff::1`, 48);
      expect(next.outcome).toBe('resource_exhausted');
    });
  });

  it("a stranger's failures from changing addresses do not keep the owner out: the owner's device is throttled on its own", async () => {
    const u = account();
    let now = Date.now();
    const d = deps({ users: [u], versions: new Map() }, { clock: () => new Date(now) });
    // The owner logged in before from their browser: it holds a device cookie of this account.
    const first = await attempt(d, u.username, u.password, { client_ip: '198.51.100.10' });
    expect(first.outcome).toBe('ok');
    const device = first.reply!.device_token;
    // A stranger guesses from a new address each time.
    for (let i = 0; i < 5; i++) await attempt(d, u.username, `guess-${i}`, { client_ip: `203.0.113.${i + 1}` });
    const owner: string[] = [];
    const stranger: string[] = [];
    for (let i = 0; i < 20; i++, now += 3_000) {
      owner.push((await attempt(d, u.username, u.password, { client_ip: '198.51.100.10', device_token: device })).outcome);
      stranger.push((await attempt(d, u.username, `guess-x${i}`, { client_ip: `203.0.113.${100 + i}` })).outcome);
    }
    expect(owner).toEqual(Array(20).fill('ok'));
    // The stranger gets a guess only each time a doubling delay has passed (1, 2, 4, 8, 16, 32 s): a few in a minute.
    expect(stranger).not.toContain('ok');
    expect(stranger.filter((o) => o === 'resource_exhausted').length).toBeGreaterThanOrEqual(14);
    // Without the cookie (a new device), the owner waits like anyone else.
    expect((await attempt(d, u.username, u.password)).outcome).toBe('resource_exhausted');
  });

  it('a device cookie of another account, or a forged one, is no device', async () => {
    const [victim, other] = [account(), account()];
    const d = deps({ users: [victim, other], versions: new Map() });
    for (let i = 0; i < 5; i++) await attempt(d, victim.username, 'wrong');
    const othersDevice = (await attempt(d, other.username, other.password)).reply!.device_token;
    const forged = issueDeviceToken(Buffer.alloc(32, 1), victim.id);
    for (const token of [othersDevice, forged, 'd1.garbage', ''])
      expect((await attempt(d, victim.username, victim.password, { device_token: token })).outcome).toBe('resource_exhausted');
  });

  it('after the free attempts each failure doubles the delay (1, 2, 4 s) up to the cap, and a right password waits it out too', async () => {
    const u = account();
    let now = Date.now();
    const d = deps(
      { users: [u], versions: new Map() },
      {
        clock: () => new Date(now),
        throttle: { freeAttempts: 5, addressFreeAttempts: 100, accountMaxDelaySeconds: 4, addressMaxDelaySeconds: 900, windowSeconds: 900, ipv6Prefix: 64 },
      },
    );
    for (let i = 0; i < 5; i++) expect((await attempt(d, u.username, 'wrong')).outcome).toBe('unauthenticated');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = await attempt(d, u.username, u.password);
      expect(refused.outcome).toBe('resource_exhausted');
      delays.push(refused.error!.retryAfterSeconds!);
      // One second short of the delay: still refused.
      now += (delays.at(-1)! - 1) * 1000;
      expect((await attempt(d, u.username, u.password)).outcome).toBe('resource_exhausted');
      now += 1000;
      expect((await attempt(d, u.username, 'wrong')).outcome).toBe('unauthenticated');
    }
    const last = await attempt(d, u.username, u.password);
    delays.push(last.error!.retryAfterSeconds!);
    expect(delays).toEqual([1, 2, 4, 4, 4]);
    now += 4000;
    expect((await attempt(d, u.username, u.password)).outcome).toBe('ok');
  });

  it('keeps working after a great many failures (no overflow), with the delay at its cap', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    await attempt(d, u.username, 'x');
    await pool.query("UPDATE login_throttle SET failures = 5000, blocked_until = now() - interval '1 second' WHERE user_id = $1", [u.id]);
    expect((await attempt(d, u.username, 'x')).outcome).toBe('unauthenticated');
    const next = await attempt(d, u.username, 'x');
    expect(next.outcome).toBe('resource_exhausted');
    expect(next.error!.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('stores no login name or address in clear: keys are HMACs under the server secret', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    await attempt(d, u.username, 'wrong', { client_ip: '198.51.100.222' });
    await attempt(d, 'nobody_by_this_name', 'wrong', { client_ip: '198.51.100.222' });
    const { rows } = await pool.query<{ key: string }>('SELECT key FROM login_throttle');
    const text = JSON.stringify(rows);
    for (const clear of [u.username, 'nobody_by_this_name', '198.51.100.222']) expect(text).not.toContain(clear);
    // A key is a tag and an HMAC: no part of it is the account's id.
    for (const { key } of rows) expect(key.split(':').slice(1)).not.toContain(String(u.id));
  });
});

describe('second-factor codes are throttled like passwords', () => {
  it('five wrong codes, then 429 even for a right one; a code users-service could not check counts nothing', async () => {
    const u = account();
    let answer: 'wrong' | 'down' | 'right' = 'down';
    const f: FakeUsers = { users: [u], versions: new Map() };
    const base = fakeUsers(f);
    const d = deps(f, {
      rpc: {
        call: (async (rpc: Rpc, input: unknown) => {
          if (rpc.name !== Rpcs.users.verifySecondFactor.name) return base(rpc, input);
          if (answer === 'down') throw new AppError('unavailable', 'rpc.no_responders', 'The users service is not available');
          if (answer === 'wrong') throw new AppError('unauthenticated', 'users.mfa_code_invalid', 'The code is wrong');
          return { status: 'ok' };
        }) as never,
      },
    });
    const ticket = `ticket-${randomUUID()}`;
    await pool.query("INSERT INTO mfa_tickets (ticket_hash, user_id, verified_at, expires_at) VALUES ($1, $2, now(), now() + interval '5 minutes')", [sha256(ticket), u.id]);
    const second = (code: string) =>
      loginMfa(d, { ticket, code }, ctx).then(
        () => 'ok',
        (e: AppError) => e.code,
      );
    for (let i = 0; i < 8; i++) expect(await second('000000')).toBe('unavailable');
    answer = 'wrong';
    for (let i = 0; i < 5; i++) expect(await second('111111')).toBe('unauthenticated');
    answer = 'right';
    const blocked = await loginMfa(d, { ticket, code: '222222' }, ctx).catch((e: AppError) => e);
    expect(blocked).toMatchObject({ code: 'resource_exhausted', retryAfterSeconds: 1 });
  });
});

describe('tokens carry the authorization version', () => {
  it('login and refresh sign the role and version users-service reads right before signing', async () => {
    const u = account({ role: 'admin' });
    const f: FakeUsers = { users: [u], versions: new Map([[u.id, 3]]) };
    const d = deps(f);
    const session = (await attempt(d, u.username, u.password)).reply!;
    expect(decodeJwt(session.access_token)).toMatchObject({ sub: String(u.id), role: 'admin', ver: 3 });
    u.role = 'user';
    f.versions.set(u.id, 4);
    const rotated = await refresh(d, session.refresh_token, ctx);
    expect(decodeJwt(rotated.access_token)).toMatchObject({ sub: String(u.id), role: 'user', ver: 4 });
  });
});

describe('refresh token reuse', () => {
  it('thirty concurrent refreshes of one token (tabs) all get the same successor; the session lives on', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const session = (await attempt(d, u.username, u.password)).reply!;
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => refresh(d, session.refresh_token, ctx)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const successors = new Set(results.map((r) => (r as PromiseFulfilledResult<{ refresh_token: string }>).value.refresh_token));
    expect(successors.size).toBe(1);
    expect(d.revoked).toEqual([]);
    const [successor] = [...successors];
    await expect(refresh(d, successor!, ctx)).resolves.toMatchObject({ token_type: 'bearer' });
  });

  it('a spent token presented within the interval leads to the live token even after further rotations', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const t1 = (await attempt(d, u.username, u.password)).reply!.refresh_token;
    const t2 = (await refresh(d, t1, ctx)).refresh_token;
    const t3 = (await refresh(d, t2, ctx)).refresh_token;
    expect((await refresh(d, t1, ctx)).refresh_token).toBe(t3);
    expect(d.revoked).toEqual([]);
  });

  it('reuse after the interval revokes the whole session', async () => {
    const u = account();
    let now = Date.now();
    const d = deps({ users: [u], versions: new Map() }, { clock: () => new Date(now) });
    const first = await attempt(d, u.username, u.password);
    const t1 = first.reply!.refresh_token;
    const t2 = (await refresh(d, t1, ctx)).refresh_token;
    now += 10_001;
    await expect(refresh(d, t1, ctx)).rejects.toMatchObject({ code: 'unauthenticated', id: 'auth.refresh_invalid' });
    expect(d.revoked).toHaveLength(1);
    await expect(refresh(d, t2, ctx)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('with the interval at 0, any reuse revokes the session', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() }, { refreshReuseIntervalSeconds: 0 });
    const t1 = (await attempt(d, u.username, u.password)).reply!.refresh_token;
    await refresh(d, t1, ctx);
    await expect(refresh(d, t1, ctx)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(d.revoked).toHaveLength(1);
  });
});

describe('a login or refresh records its reply with its idempotency key in its own transaction', () => {
  const store = new IdempotencyStore(randomBytes(32));
  const keyed = (rpcName: string, key: string, request: unknown) => ({ ...ctx, idempotency: store.call(rpcName, null, key, request) });
  const sessionsOf = async (userId: number) => Number((await pool.query('SELECT count(*) FROM sessions WHERE user_id = $1', [userId])).rows[0].count);

  it('the recorded reply is the answer, and one session stands behind it', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() }, { idempotency: store });
    const request = { username: u.username, password: u.password };
    const c = keyed('auth.login', `k-${randomUUID()}`, request);
    const reply = await login(d, request, c);
    await expect(store.find(pool, c.idempotency)).resolves.toEqual({ ok: true, data: reply });
    expect(await sessionsOf(u.id)).toBe(1);
  });

  it('a login that fails after its session row was written leaves neither the session nor a record', async () => {
    const u = account();
    const d = deps(
      { users: [u], versions: new Map() },
      {
        idempotency: store,
        signingKey: () => {
          throw new Error('signing key unavailable');
        },
      },
    );
    const request = { username: u.username, password: u.password };
    const c = keyed('auth.login', `k-${randomUUID()}`, request);
    await expect(login(d, request, c)).rejects.toThrow('signing key unavailable');
    await expect(store.find(pool, c.idempotency)).resolves.toBeUndefined();
    expect(await sessionsOf(u.id)).toBe(0);
  });

  it('two logins racing with one key open one session; the loser learns the key was answered meanwhile', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() }, { idempotency: store });
    const request = { username: u.username, password: u.password };
    const key = `k-${randomUUID()}`;
    const [a, b] = [keyed('auth.login', key, request), keyed('auth.login', key, request)];
    const results = await Promise.allSettled([login(d, request, a), login(d, request, b)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { id: 'idempotency.in_flight' } });
    expect(await sessionsOf(u.id)).toBe(1);
    await expect(store.find(pool, a.idempotency)).resolves.toEqual({ ok: true, data: (won[0] as PromiseFulfilledResult<unknown>).value });
  });

  it('a refresh records the rotated tokens it answers', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() }, { idempotency: store, refreshReuseIntervalSeconds: 0 });
    const t1 = (await attempt(d, u.username, u.password)).reply!.refresh_token;
    const c = keyed('auth.refresh', `k-${randomUUID()}`, { refresh_token: t1 });
    const rotated = await refresh(d, t1, c);
    await expect(store.find(pool, c.idempotency)).resolves.toEqual({ ok: true, data: rotated });
  });
});

describe('sessions and password changes', () => {
  it('refuses a session from a password check made before the password changed', async () => {
    const u = account();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f: FakeUsers = {
      users: [u],
      versions: new Map(),
      verify: async () => {
        await gate;
        const { password: _p, ...user } = u;
        return user;
      },
    };
    const d = deps(f);
    const racing = login(d, { username: u.username, password: 'old password' }, ctx);
    await new Promise((r) => setTimeout(r, 50));
    await markPasswordChanged(d, u.id);
    release();
    await expect(racing).rejects.toMatchObject({ code: 'unauthenticated' });
    // A check made after the change opens a session as usual.
    await expect(login(d, { username: u.username, password: 'new password' }, ctx)).resolves.toMatchObject({ user: { id: u.id } });
  });

  it('spends nothing when users-service cannot answer a refresh, so the client can retry', async () => {
    const u = account();
    const f: FakeUsers = { users: [u], versions: new Map() };
    const d = deps(f);
    const session = (await attempt(d, u.username, u.password)).reply!;
    f.down = true;
    await expect(refresh(d, session.refresh_token, ctx)).rejects.toMatchObject({ code: 'unavailable' });
    f.down = false;
    const rotated = await refresh(d, session.refresh_token, ctx);
    expect(rotated.refresh_token).not.toBe(session.refresh_token);
    expect(d.revoked).toEqual([]);
  });
});

describe('ending sessions', () => {
  const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;
  const revokedReasons = async (ids: string[]) =>
    Object.fromEntries(
      (await pool.query<{ id: string; revoked_reason: string | null }>('SELECT id, revoked_reason FROM sessions WHERE id = ANY($1)', [ids])).rows.map((r) => [
        r.id,
        r.revoked_reason,
      ]),
    );

  it("logout ends the caller's session only: its revocation is recorded and published, the other session refreshes on", async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const [mine, other] = [(await attempt(d, u.username, u.password)).reply!, (await attempt(d, u.username, u.password)).reply!];
    const [mineId, otherId] = [sessionOf(mine.access_token), sessionOf(other.access_token)];
    await expect(logout(d, { user_id: u.id, session_id: mineId, all: false })).resolves.toEqual({ sessions_ended: 1 });
    expect(d.revoked).toEqual([mineId]);
    expect(await revokedReasons([mineId, otherId])).toEqual({ [mineId]: 'logout', [otherId]: null });
    await expect(refresh(d, mine.refresh_token, ctx)).rejects.toMatchObject({ id: 'auth.refresh_invalid' });
    await expect(refresh(d, other.refresh_token, ctx)).resolves.toMatchObject({ token_type: 'bearer' });
    // A second logout of the same session ends nothing more, and still refuses its tokens everywhere.
    await expect(logout(d, { user_id: u.id, session_id: mineId, all: false })).resolves.toEqual({ sessions_ended: 0 });
    expect(d.revoked).toEqual([mineId, mineId]);
  });

  it("logout of all sessions ends every session of the caller and no one else's", async () => {
    const [u, stranger] = [account(), account()];
    const d = deps({ users: [u, stranger], versions: new Map() });
    const sessions = [(await attempt(d, u.username, u.password)).reply!, (await attempt(d, u.username, u.password)).reply!];
    const strangers = (await attempt(d, stranger.username, stranger.password)).reply!;
    const ids = sessions.map((t) => sessionOf(t.access_token));
    await expect(logout(d, { user_id: u.id, session_id: ids[0]!, all: true })).resolves.toEqual({ sessions_ended: 2 });
    expect([...d.revoked].sort()).toEqual([...ids].sort());
    expect(await revokedReasons(ids)).toEqual({ [ids[0]!]: 'logout_all', [ids[1]!]: 'logout_all' });
    for (const t of sessions) await expect(refresh(d, t.refresh_token, ctx)).rejects.toMatchObject({ id: 'auth.refresh_invalid' });
    await expect(refresh(d, strangers.refresh_token, ctx)).resolves.toMatchObject({ token_type: 'bearer' });
  });

  it("a password change ends the user's other sessions and keeps the caller's", async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const [mine, other] = [(await attempt(d, u.username, u.password)).reply!, (await attempt(d, u.username, u.password)).reply!];
    const [mineId, otherId] = [sessionOf(mine.access_token), sessionOf(other.access_token)];
    const oldPassword = u.password;
    await expect(changePassword(d, { user_id: u.id, session_id: mineId, current_password: oldPassword, new_password: 'a new passphrase' }, ctx)).resolves.toEqual({
      status: 'changed',
      sessions_ended: 1,
    });
    expect(d.revoked).toEqual([otherId]);
    expect(await revokedReasons([mineId, otherId])).toEqual({ [mineId]: null, [otherId]: 'password_changed' });
    await expect(refresh(d, other.refresh_token, ctx)).rejects.toMatchObject({ id: 'auth.refresh_invalid' });
    await expect(refresh(d, mine.refresh_token, ctx)).resolves.toMatchObject({ token_type: 'bearer' });
    // The old password opens nothing any more; the new one does.
    expect((await attempt(d, u.username, oldPassword)).outcome).toBe('unauthenticated');
    expect((await attempt(d, u.username, 'a new passphrase')).outcome).toBe('ok');
  });
});

describe('reauthentication before what hands over the account', () => {
  const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

  it('a session from a sign-in within REAUTH_WINDOW is present; an older one needs the current password', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const sid = sessionOf((await attempt(d, u.username, u.password)).reply!.access_token);
    await expect(reauthenticate(d, { user_id: u.id, session_id: sid }, ctx)).resolves.toEqual({ status: 'ok' });
    const later = deps({ users: [u], versions: new Map() }, { clock: () => new Date(Date.now() + 601_000) });
    await expect(reauthenticate(later, { user_id: u.id, session_id: sid }, ctx)).rejects.toMatchObject({ id: 'auth.reauthentication_required', code: 'unauthenticated' });
    await expect(reauthenticate(later, { user_id: u.id, session_id: sid, current_password: u.password }, ctx)).resolves.toEqual({ status: 'ok' });
    await expect(reauthenticate(later, { user_id: u.id, session_id: sid, current_password: 'wrong' }, ctx)).rejects.toMatchObject({ id: 'users.wrong_password' });
  });

  it('a stolen token is no password oracle: wrong current passwords are throttled like logins', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const sid = sessionOf((await attempt(d, u.username, u.password)).reply!.access_token);
    const outcomes: string[] = [];
    for (let i = 0; i < 7; i++)
      outcomes.push(
        await reauthenticate(d, { user_id: u.id, session_id: sid, current_password: `guess ${i}` }, ctx).then(
          () => 'ok',
          (e: AppError) => e.id,
        ),
      );
    expect(outcomes.slice(0, 5)).toEqual(Array(5).fill('users.wrong_password'));
    expect(outcomes.slice(5)).toEqual(['auth.throttled', 'auth.throttled']);
  });

  it('a session that was ended is not present, whatever its age', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const sid = sessionOf((await attempt(d, u.username, u.password)).reply!.access_token);
    await logout(d, { user_id: u.id, session_id: sid, all: false });
    await expect(reauthenticate(d, { user_id: u.id, session_id: sid }, ctx)).rejects.toMatchObject({ id: 'auth.reauthentication_required' });
  });

  it('cancelling an address change from the old address ends every session of the account', async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    const sessions = [(await attempt(d, u.username, u.password)).reply!, (await attempt(d, u.username, u.password)).reply!];
    await expect(cancelEmailChange(d, { token: 'other-link' }, ctx)).rejects.toMatchObject({ id: 'users.email_change_link_invalid' });
    expect(d.revoked).toEqual([]);
    await expect(cancelEmailChange(d, { token: 'cancel-link' }, ctx)).resolves.toEqual({ status: 'cancelled', sessions_ended: 2 });
    for (const t of sessions) await expect(refresh(d, t.refresh_token, ctx)).rejects.toMatchObject({ id: 'auth.refresh_invalid' });
  });
});

describe('erasure', () => {
  it("removes a deleted user's sessions, refresh tokens, password epoch and throttle rows", async () => {
    const u = account();
    const d = deps({ users: [u], versions: new Map() });
    await attempt(d, u.username, 'wrong');
    await attempt(d, u.username, u.password);
    await markPasswordChanged(d, u.id);
    const count = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM sessions WHERE user_id = $1) + (SELECT count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1)
                + (SELECT count(*) FROM user_security WHERE user_id = $1) + (SELECT count(*) FROM login_throttle WHERE user_id = $1) AS n`,
          [u.id],
        )
      ).rows[0]!.n;
    expect(Number(await count())).toBeGreaterThanOrEqual(4);
    await eraseUser(pool, u.id);
    expect(Number(await count())).toBe(0);
  });
});
