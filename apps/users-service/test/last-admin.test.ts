import { RegisterUser } from '@um/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { getUser } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { setRole } from '../src/application/update-user.js';
import { as, meta, newUser, rejection, usersFixture } from './setup.js';

// Each test counts admins: a schema of its own, with no admin but the ones it makes.
let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeEach(async () => {
  fx = await usersFixture();
});
afterEach(() => fx?.close());

const register = () => registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
const admin = () => registerUser(fx.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, meta);
const eventCount = async () => (await fx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;

describe('the last admin stays one', () => {
  it('refuses to demote the only admin, even by themself: 409 users.last_admin, nothing recorded', async () => {
    const only = await admin();
    const before = await eventCount();
    const refused = await rejection(setRole(fx.deps, only.id, 'user', as(only.id)));
    expect(refused.toBody()).toMatchObject({ code: 'already_exists', id: 'users.last_admin', message: 'The last admin cannot be demoted; make another user an admin first' });
    expect(await getUser(fx.pool, only.id)).toMatchObject({ role: 'admin' });
    expect(await eventCount()).toBe(before);
    expect(fx.revoked).not.toContain(only.id);
  });

  it('demotes one of two admins, then refuses the remaining one', async () => {
    const [a, b] = [await admin(), await admin()];
    await expect(setRole(fx.deps, a.id, 'user', as(b.id))).resolves.toMatchObject({ id: a.id, role: 'user' });
    expect((await rejection(setRole(fx.deps, b.id, 'user', as(b.id)))).id).toBe('users.last_admin');
    // A user who is no admin is demoted to what they are: nothing to refuse.
    await expect(setRole(fx.deps, a.id, 'user', as(b.id))).resolves.toMatchObject({ role: 'user' });
  });

  it('refuses to delete the only admin, even by themself, and deletes them once another admin exists', async () => {
    const only = await admin();
    const refused = await rejection(deleteUser(fx.deps, only.id, as(only.id)));
    expect(refused.toBody()).toMatchObject({ code: 'already_exists', id: 'users.last_admin', message: 'The last admin cannot be deleted; make another user an admin first' });
    expect(await getUser(fx.pool, only.id)).toMatchObject({ role: 'admin' });

    const successor = await register();
    await setRole(fx.deps, successor.id, 'admin', as(only.id));
    await expect(deleteUser(fx.deps, only.id, as(only.id))).resolves.toMatchObject({ id: only.id });
    expect((await rejection(getUser(fx.pool, only.id))).id).toBe('users.not_found');
  });

  it('deletes a user who is no admin while only one admin exists', async () => {
    await admin();
    const user = await register();
    await expect(deleteUser(fx.deps, user.id, as(user.id))).resolves.toMatchObject({ id: user.id });
  });
});
