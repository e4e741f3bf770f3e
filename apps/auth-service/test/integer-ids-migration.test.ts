import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rpcs, type Rpc, type User } from '@um/contracts';
import { AppError, createLogger, createPool, IdempotencyStore, migrate, serverSecret, uuidv7, type Pool } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../src/application/deps.js';
import { logout } from '../src/application/account.js';
import { resolveLegacyUsers } from '../src/application/legacy-users.js';
import { login, refresh } from '../src/application/sessions.js';
import { newRefreshToken } from '../src/application/tokens.js';
import { eraseUser } from '../src/consumers/user-erasure.js';
import { ensureSigningKey, loadKeySet } from '../src/keys/key-store.js';
import { MIGRATIONS_DIR } from '../src/service.js';

/**
 * auth-service's data from before integer user ids (migration 1700000000006: sessions and password
 * epochs keyed by the user's UUID), migrated in place: existing sessions refresh under the user's
 * integer id, deleted users' rows go, and login, logout and erasure work by the id.
 */

const log = createLogger('auth-ids-migration-test', 'silent');
const ctx = { requestId: 'test', actorId: null, log };
let pool: Pool;
let schema: string;

async function migrateUpTo(databaseUrl: string, target: string, last: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-migrations-'));
  try {
    for (const f of readdirSync(MIGRATIONS_DIR).filter((name) => name.split('_')[0]! <= last)) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
    await migrate(databaseUrl, target, dir, log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A session and its live refresh token as the UUID-era code stored them. */
async function legacySession(userUuid: string, createdAt: Date): Promise<{ id: string; refreshToken: string }> {
  const id = uuidv7(createdAt.getTime());
  const expires = new Date(Date.now() + 3_600_000);
  await pool.query('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $3, $4)', [id, userUuid, createdAt, expires]);
  const { token, hash } = newRefreshToken();
  await pool.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [hash, id, createdAt, expires]);
  return { id, refreshToken: token };
}

// users-service as it answers after its own migration: alice's UUID is id 7, bob's (deleted) 8; the stranger's UUID it never knew.
const alice = { uuid: uuidv7(), id: 7 };
const bob = { uuid: uuidv7(), id: 8 };
const stranger = uuidv7();
const aliceUser: User = {
  id: alice.id,
  username: 'alice_old',
  email: 'alice.old@example.com',
  config: { fio: 'Alice Old', birthday: '1990-01-01', tags: [] },
  role: 'user',
  email_verified: true,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
};
const asked: string[][] = [];

function fakeUsers(rpc: Rpc, input: any): unknown {
  switch (rpc.name) {
    case Rpcs.users.legacyIds.name: {
      asked.push(input.stream_ids);
      const known = [
        { stream_id: alice.uuid, user_id: alice.id, deleted: false },
        { stream_id: bob.uuid, user_id: bob.id, deleted: true },
      ];
      return { users: known.filter((u) => input.stream_ids.includes(u.stream_id)) };
    }
    case Rpcs.users.tokenSubject.name:
      if (input.user_id !== alice.id) throw new AppError('not_found', 'users.not_found', 'User not found');
      return { user_id: alice.id, role: 'user', authz_version: 3, mfa: false, password_reset_at: null };
    case Rpcs.users.resolveLogin.name:
      return { user_id: alice.id };
    case Rpcs.users.verifyCredentials.name:
      if (input.password !== 'alice-password') throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
      return aliceUser;
  }
  throw new Error(`unexpected rpc ${rpc.name}`);
}

let deps: AuthDeps;
let aliceSessions: Array<{ id: string; refreshToken: string }>;
let bobSession: { id: string; refreshToken: string };
const epoch = new Date(Date.now() - 60_000);

beforeAll(async () => {
  const { databaseUrl } = testInfra();
  schema = uniqueId('t_auth_ids');
  await migrateUpTo(databaseUrl, schema, '1700000000006');
  pool = createPool(databaseUrl, schema);
  await ensureSigningKey(pool, {});
  aliceSessions = [await legacySession(alice.uuid, new Date(Date.now() - 120_000)), await legacySession(alice.uuid, new Date(Date.now() - 90_000))];
  bobSession = await legacySession(bob.uuid, new Date(Date.now() - 100_000));
  await legacySession(stranger, new Date(Date.now() - 100_000));
  await pool.query('INSERT INTO user_security (user_id, sessions_valid_after) VALUES ($1, $2), ($3, $2)', [alice.uuid, epoch, bob.uuid]);
  await pool.query("INSERT INTO login_throttle (key, failures, last_failure_at, user_id) VALUES ('account:x', 3, now(), $1)", [alice.uuid]);

  await migrate(databaseUrl, schema, MIGRATIONS_DIR, log);
  const keys = await loadKeySet(pool, {});
  const secret = await serverSecret(pool, 'throttle', {});
  deps = {
    pool,
    log,
    rpc: { call: async (rpc, input) => fakeUsers(rpc, input) as never },
    signingKey: () => keys.signing,
    jwks: () => keys.jwks,
    revokeSessions: async () => undefined,
    accessTokenTtl: 900,
    refreshTokenTtl: 3600,
    refreshReuseIntervalSeconds: 10,
    mfaTicketTtlSeconds: 300,
    reauthWindowSeconds: 600,
    throttle: { freeAttempts: 5, addressFreeAttempts: 100, accountMaxDelaySeconds: 60, addressMaxDelaySeconds: 900, windowSeconds: 900, ipv6Prefix: 64 },
    throttleSecret: secret,
    deviceSecret: await serverSecret(pool, 'device', {}),
    clock: () => new Date(),
    idempotency: new IdempotencyStore(secret),
  };
});
afterAll(async () => {
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

const sessionsOf = async (userId: number) =>
  (await pool.query<{ id: string }>('SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id', [userId])).rows.map((r) => r.id);

describe('auth-service data from before integer user ids', () => {
  it('keeps every session, naming its user by the UUID until users-service tells the id; short-lived rows go', async () => {
    const { rows } = await pool.query('SELECT user_id, legacy_user_id FROM sessions ORDER BY id');
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.user_id === null && r.legacy_user_id !== null)).toBe(true);
    expect((await pool.query('SELECT count(*)::int AS n FROM legacy_user_security')).rows[0].n).toBe(2);
    expect((await pool.query('SELECT count(*)::int AS n FROM login_throttle')).rows[0].n).toBe(0);
  });

  it('refreshes an existing session: the user id is learnt first, and the token names the integer id', async () => {
    const rotated = await refresh(deps, aliceSessions[0]!.refreshToken, ctx);
    expect(decodeJwt(rotated.access_token)).toMatchObject({ sub: '7', ver: 3, sid: aliceSessions[0]!.id });
    expect(asked).toEqual([[alice.uuid]]);
    // Both of alice's sessions (and her password epoch) moved over at once.
    expect(await sessionsOf(alice.id)).toEqual(aliceSessions.map((s) => s.id).sort());
    expect((await pool.query('SELECT user_id::int AS id, sessions_valid_after AS at FROM user_security')).rows).toEqual([{ id: 7, at: epoch }]);
    expect(await refresh(deps, rotated.refresh_token, ctx)).toMatchObject({ token_type: 'bearer' });
  });

  it('settles the rest in the background pass: a deleted user is erased, an unknown UUID names nobody', async () => {
    expect(await resolveLegacyUsers(deps, 'test')).toBe(2);
    expect(await resolveLegacyUsers(deps, 'test')).toBe(0);
    const { rows } = await pool.query('SELECT id, user_id::int AS user_id, legacy_user_id FROM sessions ORDER BY id');
    expect(rows.map((r) => [r.id, r.user_id, r.legacy_user_id])).toEqual(aliceSessions.map((s) => [s.id, 7, null]).sort());
    expect((await pool.query('SELECT count(*)::int AS n FROM legacy_user_security')).rows[0].n).toBe(0);
    await expect(refresh(deps, bobSession.refreshToken, ctx)).rejects.toMatchObject({ id: 'auth.refresh_invalid' });
  });

  it('login, logout of all sessions and erasure work by the integer id', async () => {
    const fresh = await login(deps, { username: 'alice_old', password: 'alice-password' }, ctx);
    if (!('access_token' in fresh)) throw new Error('expected tokens');
    expect(decodeJwt(fresh.access_token).sub).toBe('7');
    expect(await sessionsOf(alice.id)).toHaveLength(3);
    const sid = decodeJwt(fresh.access_token).sid as string;
    expect(await logout(deps, { user_id: alice.id, session_id: sid, all: true })).toEqual({ sessions_ended: 3 });
    await eraseUser(pool, alice.id);
    expect((await pool.query('SELECT count(*)::int AS n FROM sessions')).rows[0].n).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM user_security')).rows[0].n).toBe(0);
  });
});
