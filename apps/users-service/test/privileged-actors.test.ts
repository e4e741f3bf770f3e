import { RegisterUser } from '@um/contracts';
import { AppError } from '@um/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLogin, tokenSubject } from '../src/application/auth-lookups.js';
import { deleteUser } from '../src/application/delete-user.js';
import { userHistory } from '../src/application/history.js';
import { registerUser } from '../src/application/register-user.js';
import { setRole, updateUser } from '../src/application/update-user.js';
import { as, meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = (overrides: Record<string, unknown> = {}) => registerUser(fx.deps, RegisterUser.parse(newUser(overrides)), meta);
const admin = async () => registerUser(fx.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, meta);
const code = async (p: Promise<unknown>) => (await rejection(p)).code;

describe('privileged commands check the actor in users-service', () => {
  it("refuse a non-admin actor, whatever the gateway let through: role changes, admin creation, others' profiles, deletions, history", async () => {
    const [mallory, victim] = [await register(), await register()];
    const before = (await fx.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n;
    expect(await code(setRole(fx.deps, mallory.id, 'admin', as(mallory.id)))).toBe('permission_denied');
    expect(await code(registerUser(fx.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, as(mallory.id)))).toBe('permission_denied');
    expect(await code(updateUser(fx.deps, { user_id: victim.id, changes: { fio: 'Owned' } }, as(mallory.id)))).toBe('permission_denied');
    expect(await code(deleteUser(fx.deps, victim.id, as(mallory.id)))).toBe('permission_denied');
    expect(await code(userHistory(fx.deps, victim.id, as(mallory.id)))).toBe('permission_denied');
    // No actor at all (a caller that is neither a user nor the service itself) is refused too.
    expect(await code(setRole(fx.deps, mallory.id, 'admin', { requestId: 'r', actorId: null }))).toBe('permission_denied');
    expect((await fx.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(before);
  });

  it('let users act on themselves and admins on anyone', async () => {
    const [boss, alice, bob] = [await admin(), await register(), await register()];
    await expect(updateUser(fx.deps, { user_id: alice.id, changes: { fio: 'Alice Self' } }, as(alice.id))).resolves.toMatchObject({ config: { fio: 'Alice Self' } });
    await expect(userHistory(fx.deps, alice.id, as(alice.id))).resolves.toHaveLength(2);
    await expect(updateUser(fx.deps, { user_id: bob.id, changes: { fio: 'Bob By Admin' } }, as(boss.id))).resolves.toMatchObject({ config: { fio: 'Bob By Admin' } });
    await expect(userHistory(fx.deps, bob.id, as(boss.id))).resolves.toHaveLength(2);
    await expect(setRole(fx.deps, bob.id, 'admin', as(boss.id))).resolves.toMatchObject({ role: 'admin' });
    await expect(registerUser(fx.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, as(boss.id))).resolves.toMatchObject({ role: 'admin' });
    await expect(deleteUser(fx.deps, alice.id, as(alice.id))).resolves.toMatchObject({ id: alice.id });
    await expect(deleteUser(fx.deps, bob.id, as(boss.id))).resolves.toMatchObject({ id: bob.id });
  });

  it('a demoted admin is refused at once, although their token still says admin', async () => {
    const [a, b, target] = [await admin(), await admin(), await register()];
    await setRole(fx.deps, a.id, 'user', as(b.id));
    expect(await code(setRole(fx.deps, target.id, 'admin', as(a.id)))).toBe('permission_denied');
    expect(await code(updateUser(fx.deps, { user_id: target.id, changes: { fio: 'Too late' } }, as(a.id)))).toBe('permission_denied');
  });

  it('two admins demoting each other at once: one wins, the other is refused, no error', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [await admin(), await admin()];
      const results = await Promise.allSettled([setRole(fx.deps, b.id, 'user', as(a.id)), setRole(fx.deps, a.id, 'user', as(b.id))]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as AppError;
      expect(lost.code).toBe('permission_denied');
    }
  });

  it('commands of an admin racing their demotion all commit before it, none after', async () => {
    const [a, b] = [await admin(), await admin()];
    const targets = await Promise.all(Array.from({ length: 10 }, () => register()));
    const commands = targets.map((t, i) => (i % 2 ? updateUser(fx.deps, { user_id: t.id, changes: { fio: `Race ${i}` } }, as(a.id)) : setRole(fx.deps, t.id, 'admin', as(a.id))));
    const demotion = new Promise((r) => setTimeout(r, 5)).then(() => setRole(fx.deps, a.id, 'user', as(b.id)));
    const settled = await Promise.allSettled([...commands, demotion]);
    expect(settled.at(-1)!.status).toBe('fulfilled');
    for (const r of settled.slice(0, -1)) if (r.status === 'rejected') expect((r.reason as AppError).code).toBe('permission_denied');
    const { rows } = await fx.pool.query<{ position: string; actor: string; demotion: boolean }>(
      `SELECT global_position AS position, metadata ->> 'actor_id' AS actor, (stream_id = (SELECT stream_id FROM user_ids WHERE id = $1::bigint) AND type = 'UserRoleChanged') AS demotion
         FROM events WHERE metadata ->> 'actor_id' IN ($1::text, $2::text) ORDER BY global_position`,
      [String(a.id), String(b.id)],
    );
    const demotedAt = rows.find((r) => r.demotion)!.position;
    expect(rows.filter((r) => r.actor === String(a.id) && BigInt(r.position) > BigInt(demotedAt))).toEqual([]);
  });
});

describe('what auth-service reads for tokens', () => {
  it('a role change revokes every token below the version it commits, the version token_subject reads from then on', async () => {
    const [boss, u] = [await admin(), await register()];
    const before = await tokenSubject(fx.pool, u.id);
    expect(before).toEqual({ user_id: u.id, role: 'user', authz_version: expect.any(Number), mfa: false, password_reset_at: null });
    fx.revocations.length = 0;
    await setRole(fx.deps, u.id, 'admin', as(boss.id));
    const after = await tokenSubject(fx.pool, u.id);
    expect(after.role).toBe('admin');
    expect(after.authz_version).toBeGreaterThan(before.authz_version);
    expect(fx.revocations).toEqual([[u.id, after.authz_version]]);
    // No change, no revocation.
    await setRole(fx.deps, u.id, 'admin', as(boss.id));
    expect(fx.revocations).toHaveLength(1);
  });

  it('resolve_login: the account a username or email stands for, and nothing for an unknown name', async () => {
    const u = await register();
    expect(await resolveLogin(fx.pool, u.username.toUpperCase())).toEqual({ user_id: u.id });
    expect(await resolveLogin(fx.pool, ` ${u.email} `)).toEqual({ user_id: u.id });
    expect(await resolveLogin(fx.pool, 'Nobody_Here')).toEqual({ user_id: null });
  });
});
