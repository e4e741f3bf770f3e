import { randomUUID } from 'node:crypto';
import { RegisterUser } from '@um/contracts';
import type { AppError } from '@um/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('a client is one client however its address is written', () => {
  const register = (ip: string) => registerUser(fx.deps, { ...RegisterUser.parse(newUser()), client_ip: ip }, meta);

  it('registrations: an IPv6 client with a new address of its /64 each time is limited as one address', async () => {
    for (const ip of ['2001:db8:5::1', '2001:db8:5:0:a:b:c:d', '2001:0db8:0005:0000:0000:0000:0000:0003']) await register(ip);
    expect((await rejection(register('2001:db8:5:0:ffff:ffff:ffff:ffff'))).code).toBe('resource_exhausted');
    expect((await rejection(register('2001:DB8:5::1%eth0'))).code).toBe('resource_exhausted');
    // The neighbouring /64 is another client.
    await register('2001:db8:5:1::1');
  });

  it('registrations: an IPv4-mapped address counts with its IPv4 address', async () => {
    await register('198.51.100.175');
    await register('::ffff:198.51.100.175');
    await register('::FFFF:c633:64af');
    expect((await rejection(register('198.51.100.175'))).code).toBe('resource_exhausted');
  });

  it('password reset requests: one /64 is one address, and so are an IPv4 address and its mapped form', async () => {
    const ask = (ip: string) => requestPasswordReset(fx.deps, { login: `nobody_${randomUUID().slice(0, 8)}`, client_ip: ip }, meta);
    for (let i = 1; i <= 5; i++) await ask(`2001:db8:6::${i.toString(16)}:${i}`);
    expect((await rejection(ask('2001:db8:6:0:1:2:3:4'))).id).toBe('users.reset_rate_limited');
    for (let i = 1; i <= 5; i++) await ask(i % 2 ? '203.0.113.176' : '::ffff:203.0.113.176');
    expect((await rejection(ask('::ffff:203.0.113.176'))).id).toBe('users.reset_rate_limited');
  });
});

describe('password reset requests count per name as typed, never per account', () => {
  const ask = (login: string) =>
    requestPasswordReset(fx.deps, { login }, meta).then(
      () => 'accepted',
      (e: AppError) => e.id,
    );

  it('requests split between the username and the email meet the limit no sooner when both are one account', async () => {
    const [a, b] = [newUser(), newUser()];
    await registerUser(fx.deps, RegisterUser.parse(a), meta);
    await registerUser(fx.deps, RegisterUser.parse(b), meta);
    // The account limit is 3 here: two requests per name, four in all.
    const sameAccount = [await ask(a.username), await ask(a.email), await ask(a.username.toUpperCase()), await ask(` ${a.email} `)];
    const twoAccounts = [await ask(b.username), await ask(`other_${randomUUID().slice(0, 8)}@example.com`), await ask(b.username), await ask(b.email)];
    expect(sameAccount).toEqual(Array(4).fill('accepted'));
    expect(sameAccount).toEqual(twoAccounts);
  });

  it('one name, however spelt, still meets its limit: the fourth request is refused, for an unknown name alike', async () => {
    const a = newUser();
    await registerUser(fx.deps, RegisterUser.parse(a), meta);
    const unknown = `nobody_${randomUUID().slice(0, 8)}@example.com`;
    const known = [await ask(a.email), await ask(a.email.toUpperCase()), await ask(` ${a.email}`), await ask(a.email)];
    const stranger = [await ask(unknown), await ask(unknown.toUpperCase()), await ask(` ${unknown}`), await ask(unknown)];
    expect(known).toEqual(['accepted', 'accepted', 'accepted', 'users.reset_rate_limited']);
    expect(stranger).toEqual(known);
  });
});
