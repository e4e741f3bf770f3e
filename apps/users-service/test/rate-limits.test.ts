import { RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { requestPasswordReset } from '../src/application/password-reset.js';
import { registerUser } from '../src/application/register-user.js';
import { meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

it('keeps counts under HMAC keys: no client address or name in clear, and an erased account leaves none behind', async () => {
  const ip = '198.51.100.173';
  const input = newUser();
  const user = await registerUser(fx.deps, { ...RegisterUser.parse(input), client_ip: ip }, meta);
  await requestPasswordReset(fx.deps, { login: input.email, client_ip: ip }, meta);
  await requestPasswordReset(fx.deps, { login: 'nobody_by_this_name', client_ip: ip }, meta);
  const keys = async () => (await fx.pool.query<{ key: string }>('SELECT key FROM rate_limits')).rows.map((r) => r.key);
  const before = await keys();
  for (const clear of [ip, input.email, input.username, 'nobody_by_this_name']) expect(JSON.stringify(before)).not.toContain(clear);
  // A key is a scope and an HMAC: no part of it is the account's id.
  for (const key of before) expect(key.split(':').slice(1)).not.toContain(String(user.id));
  expect((await fx.pool.query('SELECT count(*)::int AS n FROM rate_limits')).rows[0].n).toBe(4);

  await deleteUser(fx.deps, user.id, meta);
  // The account's count goes with the account; the address and the unknown name's stay.
  expect((await fx.pool.query('SELECT count(*)::int AS n FROM rate_limits')).rows[0].n).toBe(3);
});

it('still limits: the fourth registration from one address in the window is refused', async () => {
  const ip = '198.51.100.174';
  for (let i = 0; i < 3; i++) await registerUser(fx.deps, { ...RegisterUser.parse(newUser()), client_ip: ip }, meta);
  expect((await rejection(registerUser(fx.deps, { ...RegisterUser.parse(newUser()), client_ip: ip }, meta))).code).toBe('resource_exhausted');
});
