import { Rpcs, type Rpc, type User } from '@um/contracts';
import { AppError, createLogger, createPool, migrate } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../src/application/deps.js';
import { login, markPasswordChanged, refresh } from '../src/application/sessions.js';
import { ensureSigningKey, loadKeySet } from '../src/keys/key-store.js';
import { MIGRATIONS_DIR } from '../src/service.js';

const log = createLogger('auth-sessions-test', 'silent');
let schema: string;
let pool: ReturnType<typeof createPool>;
let keys: Awaited<ReturnType<typeof loadKeySet>>;

beforeAll(async () => {
  schema = uniqueId('t_auth');
  await migrate(testInfra().databaseUrl, schema, MIGRATIONS_DIR, log);
  pool = createPool(testInfra().databaseUrl, schema);
  await ensureSigningKey(pool, {});
  keys = await loadKeySet(pool, {});
});
afterAll(async () => {
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

const ctx = { requestId: 'test', actorId: null, log };
const newUser = (): User => ({
  id: crypto.randomUUID(),
  username: 'someone',
  email: 'someone@example.com',
  config: { fio: 'S', birthday: '1990-01-01', tags: [] },
  role: 'user',
  email_verified: false,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
});

/** auth-service's dependencies with users-service replaced by `answer`. */
function deps(answer: (rpc: Rpc, input: unknown) => Promise<unknown>): AuthDeps & { revoked: string[] } {
  const revoked: string[] = [];
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
    throttle: { freeAttempts: 5, accountMaxDelaySeconds: 60, addressMaxDelaySeconds: 900, windowSeconds: 900 },
    clock: () => new Date(),
    revoked,
  };
}

describe('login throttling', () => {
  it('counts a burst of concurrent guesses before checking them: five get through, the rest wait', async () => {
    const d = deps(async () => {
      await new Promise((r) => setTimeout(r, 30));
      throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
    });
    const name = `burst_${Date.now()}`;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => login(d, { username: name, password: 'guess' }, ctx)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok'));
    expect(codes.filter((c) => c === 'unauthenticated')).toHaveLength(5);
    expect(codes.filter((c) => c === 'resource_exhausted')).toHaveLength(15);
  });

  it('keeps working after a great many failures (no overflow), with the delay at its cap', async () => {
    const d = deps(async () => {
      throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Invalid username or password');
    });
    const name = `many_${Date.now()}`;
    await login(d, { username: name, password: 'x' }, ctx).catch(() => undefined);
    await pool.query("UPDATE login_throttle SET failures = 5000, blocked_until = now() - interval '1 second' WHERE key LIKE 'account:%' AND failures = 1");
    const first = await login(d, { username: name, password: 'x' }, ctx).catch((e: AppError) => e);
    expect((first as AppError).code).toBe('unauthenticated');
    const next = await login(d, { username: name, password: 'x' }, ctx).catch((e: AppError) => e);
    expect((next as AppError).code).toBe('resource_exhausted');
    expect((next as AppError).retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});

describe('sessions and password changes', () => {
  it('refuses a session from a password check made before the password changed', async () => {
    const user = newUser();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const d = deps(async (rpc) => {
      if (rpc === Rpcs.users.verifyCredentials) await gate;
      return user;
    });
    const racing = login(d, { username: `race_${Date.now()}`, password: 'old password' }, ctx);
    await new Promise((r) => setTimeout(r, 50));
    await markPasswordChanged(d, user.id);
    release();
    await expect(racing).rejects.toMatchObject({ code: 'unauthenticated' });
    // A check made after the change opens a session as usual.
    await expect(login(d, { username: `after_${Date.now()}`, password: 'new password' }, ctx)).resolves.toMatchObject({ user });
  });

  it('spends nothing when users-service cannot answer a refresh, so the client can retry', async () => {
    const user = newUser();
    let down = false;
    const d = deps(async () => {
      if (down) throw new AppError('unavailable', 'rpc.no_responders', 'The users service is not available');
      return user;
    });
    const session = await login(d, { username: `retry_${Date.now()}`, password: 'pw' }, ctx);
    down = true;
    await expect(refresh(d, session.refresh_token, ctx)).rejects.toMatchObject({ code: 'unavailable' });
    down = false;
    const rotated = await refresh(d, session.refresh_token, ctx);
    expect(rotated.refresh_token).not.toBe(session.refresh_token);
    expect(d.revoked).toEqual([]);
  });
});
