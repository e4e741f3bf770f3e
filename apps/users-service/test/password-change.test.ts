import { RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword, verifyCredentials, verifyPassword } from '../src/application/credentials.js';
import { userHistory } from '../src/application/history.js';
import { registerUser } from '../src/application/register-user.js';
import { meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = () => registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
const hashOf = async (userId: number) =>
  (await fx.pool.query<{ password_hash: string }>('SELECT password_hash FROM credentials WHERE user_id = $1', [userId])).rows[0]!.password_hash;

describe('setPassword', () => {
  it('stores a new hash: the new password works, the old one stops working, and the change is recorded without the hash', async () => {
    const user = await register();
    const oldHash = await hashOf(user.id);
    await expect(setPassword(fx.deps, user.id, 'a new passphrase here', meta)).resolves.toEqual({ status: 'ok' });

    const newHash = await hashOf(user.id);
    expect(newHash).not.toBe(oldHash);
    await expect(verifyCredentials(fx.deps, { username: user.username, password: 'a new passphrase here' })).resolves.toMatchObject({ id: user.id });
    expect((await rejection(verifyCredentials(fx.deps, { username: user.username, password: 'correct horse' }))).id).toBe('auth.invalid_credentials');
    expect((await rejection(verifyPassword(fx.deps, user.id, 'correct horse'))).id).toBe('users.wrong_password');

    const [changed] = await userHistory(fx.deps, user.id, meta);
    expect(changed).toMatchObject({ type: 'PasswordChanged', version: 2 });
    expect(changed).not.toHaveProperty('changes');
    const { rows } = await fx.pool.query<{ payload: unknown }>("SELECT payload FROM events WHERE type = 'PasswordChanged' AND event_id = $1", [changed!.event_id]);
    expect(JSON.stringify(rows[0]!.payload)).not.toContain(newHash);
  });

  it('refuses a password the policy does not accept, before anything changes', async () => {
    const user = await register();
    const oldHash = await hashOf(user.id);
    const refused = await rejection(setPassword(fx.deps, user.id, user.username, meta));
    expect(refused.code).toBe('invalid_argument');
    expect(refused.fields?.[0]?.field).toBe('new_password');
    expect(await hashOf(user.id)).toBe(oldHash);
    expect(await userHistory(fx.deps, user.id, meta)).toHaveLength(1);
  });

  it('is not found for an unknown user', async () => {
    expect((await rejection(setPassword(fx.deps, 2 ** 40, 'a new passphrase here', meta))).id).toBe('users.not_found');
  });
});
