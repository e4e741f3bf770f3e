import { RegisterUser, UpdateUser } from '@um/contracts';
import { AppError, withTransaction } from '@um/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPasswordPolicy, setPassword, verifyCredentials } from '../src/application/credentials.js';
import { registerUser } from '../src/application/register-user.js';
import { updateUser } from '../src/application/update-user.js';
import { loadConfig } from '../src/config.js';
import { createPasswordPolicy } from '../src/domain/password-policy.js';
import { usernameSkeleton } from '../src/domain/username-skeleton.js';
import { backfillUsernameSkeletons } from '../src/projections/backfill-username-skeletons.js';
import { rebuildUsersProjection } from '../src/projections/users-projection.js';
import { meta, newUser, rejection, silentLog, usersFixture } from './setup.js';

type Fixture = Awaited<ReturnType<typeof usersFixture>>;
let fx: Fixture;
/** Passwords bcrypt was asked to hash: a refused password must never get there. */
const hashed: string[] = [];
beforeAll(async () => {
  fx = await usersFixture();
  const hash = fx.deps.hasher.hash.bind(fx.deps.hasher);
  fx.deps.hasher.hash = async (password: string) => {
    hashed.push(password);
    return hash(password);
  };
});
afterAll(() => fx?.close());

const run = `${process.pid % 1000}${Date.now() % 100000}`;
const register = (overrides: Record<string, unknown> = {}, deps = fx.deps) => registerUser(deps, RegisterUser.parse(newUser(overrides)), meta);
const lookAlike = { field: 'username', message: 'is too similar to an existing username' };

describe('usernames: a look-alike of an existing name is 409', () => {
  it.each([
    ['all-Cyrillic look-alike', `paypal_${run}`, `\u0440\u0430\u0443\u0440\u0430\u04c0_${run}`],
    ['"rn" for "m"', `admin_${run}`, `adrnin_${run}`],
    ['capital I for l, 1 for l', `paypal.l${run}`, `paypaI.1${run}`],
    ['0 for O', `OTTO_${run}`, `0TT0_${run}`],
  ])('%s', async (_label, first, second) => {
    expect(usernameSkeleton(first)).toBe(usernameSkeleton(second));
    await register({ username: first });
    const e = await rejection(register({ username: second }));
    expect(e.code).toBe('already_exists');
    expect(e.fields).toEqual([lookAlike]);
  });

  it('keeps "is already taken" for the same name in another case, and lets a user keep their own skeleton when renaming', async () => {
    const u = await register({ username: `Keeper_${run}` });
    expect((await rejection(register({ username: `keeper_${run}` }))).fields).toEqual([{ field: 'username', message: 'is already taken' }]);
    const renamed = await updateUser(fx.deps, UpdateUser.parse({ user_id: u.id, changes: { username: `KEEPER_${run}` } }), meta);
    expect(renamed.username).toBe(`KEEPER_${run}`);
  });

  it('refuses renaming to a look-alike of someone else, before and after the pre-check (unique index)', async () => {
    await register({ username: `mallory_${run}` });
    const other = await register();
    const e = await rejection(updateUser(fx.deps, UpdateUser.parse({ user_id: other.id, changes: { username: `rnallory_${run}` } }), meta));
    expect(e.fields).toEqual([lookAlike]);
  });

  it('lets exactly one of two concurrent look-alike registrations win', async () => {
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled([register({ username: `rnoon_${round}_${run}` }), register({ username: `moon_${round}_${run}` })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
      expect((lost.reason as AppError).code).toBe('already_exists');
      expect((lost.reason as AppError).fields?.[0]?.field).toBe('username');
    }
  });
});

describe('passwords: the policy refuses before any hashing (422 naming the rule)', () => {
  it.each([
    ['the most common password', { password: 'password' }, 'is one of the most common passwords'],
    ['eight digits', { password: '12345678' }, 'is one of the most common passwords'],
    ['a common one in another case', { password: 'PassWord1' }, 'is one of the most common passwords'],
    ['eight spaces', { password: '        ' }, 'must not be blank'],
    ['tabs and an invisible joiner', { password: '\t\t\t\u200d\t\t\t\t' }, 'must not be blank'],
    ['equal to the username', { username: `samename_${run}`, password: `samename_${run}` }, 'must not contain the username'],
    ['containing the username in another case', { username: `Casey_${run}`, password: `my CASEY_${run}!!` }, 'must not contain the username'],
    ['containing the email local part', { email: `jonathan.${run}@example.com`, password: `x jonathan.${run} x` }, 'must not contain the email address (the part before "@")'],
  ])('%s', async (_label, overrides, message) => {
    const before = hashed.length;
    const e = await rejection(register(overrides));
    expect(e.code).toBe('invalid_argument');
    expect(e.fields).toEqual([{ field: 'password', message }]);
    expect(hashed.length).toBe(before);
  });

  it('accepts a short email local part inside the password, and ordinary passphrases', async () => {
    await register({ email: `bob@${run}.example.com`, password: 'bobsled racing team' });
    await register({ password: 'correct horse battery staple' });
  });

  it('checks a new password against the user it is for (field new_password), before hashing', async () => {
    const input = newUser();
    const user = await registerUser(fx.deps, RegisterUser.parse(input), meta);
    const before = hashed.length;
    for (const [password, message] of [
      ['qwerty123', 'is one of the most common passwords'],
      [`${input.username}2`, 'must not contain the username'],
    ] as const) {
      expect((await rejection(checkPasswordPolicy(fx.deps, user.id, password))).fields).toEqual([{ field: 'new_password', message }]);
      expect((await rejection(setPassword(fx.deps, user.id, password, meta))).fields).toEqual([{ field: 'new_password', message }]);
    }
    expect(hashed.length).toBe(before);
    // the old password still works
    expect((await verifyCredentials(fx.deps, { username: input.username, password: input.password })).id).toBe(user.id);
    await setPassword(fx.deps, user.id, 'a much better passphrase', meta);
    expect((await verifyCredentials(fx.deps, { username: input.username, password: 'a much better passphrase' })).id).toBe(user.id);
  });

  it('with PASSWORD_DENYLIST off accepts common passwords but keeps the other rules', async () => {
    const deps = { ...fx.deps, passwordPolicy: createPasswordPolicy({ denylist: false }) };
    await register({ password: 'password' }, deps);
    expect((await rejection(register({ password: '        ' }, deps))).fields).toEqual([{ field: 'password', message: 'must not be blank' }]);
    expect((await rejection(register({ username: `offname_${run}`, password: `offname_${run}` }, deps))).fields).toEqual([
      { field: 'password', message: 'must not contain the username' },
    ]);
  });
});

describe('configuration', () => {
  const env = { DATABASE_URL: 'postgres://x@127.0.0.1/x', NATS_URL: 'nats://127.0.0.1:4222' };
  const admin = { ADMIN_USERNAME: 'site_admin', ADMIN_EMAIL: 'root@example.com' };

  it('PASSWORD_DENYLIST defaults to on and takes only on or off', () => {
    expect(loadConfig(env).PASSWORD_DENYLIST).toBe('on');
    expect(loadConfig({ ...env, PASSWORD_DENYLIST: 'off' }).PASSWORD_DENYLIST).toBe('off');
    expect(() => loadConfig({ ...env, PASSWORD_DENYLIST: 'no' })).toThrow(/PASSWORD_DENYLIST: must be "on" or "off"/);
  });

  it('a configured admin password that breaks the policy stops the start, naming ADMIN_PASSWORD and not the value', () => {
    expect(() => loadConfig({ ...env, ...admin, ADMIN_PASSWORD: 'password123' })).toThrow(/ADMIN_PASSWORD: is one of the most common passwords/);
    expect(() => loadConfig({ ...env, ...admin, ADMIN_PASSWORD: 'my site_admin pw' })).toThrow(/ADMIN_PASSWORD: must not contain the username/);
    expect(() => loadConfig({ ...env, ...admin, ADMIN_PASSWORD: 'password123' })).not.toThrow(/password123/);
    expect(loadConfig({ ...env, ...admin, ADMIN_PASSWORD: 'password123', PASSWORD_DENYLIST: 'off' }).ADMIN_PASSWORD).toBe('password123');
    expect(loadConfig({ ...env, ...admin, ADMIN_PASSWORD: 'long admin passphrase' }).ADMIN_PASSWORD).toBe('long admin passphrase');
  });
});

describe('databases from before skeletons', () => {
  let old: Fixture;
  beforeAll(async () => {
    old = await usersFixture();
  });
  afterAll(() => old?.close());

  const skeletons = async () =>
    Object.fromEntries(
      (await old.pool.query<{ username: string; username_skeleton: string | null }>('SELECT username, username_skeleton FROM users')).rows.map((r) => [
        r.username,
        r.username_skeleton,
      ]),
    );

  it('backfill fills every row, grandfathers the later of a look-alike pair, and a rebuild replays such history without aborting', async () => {
    const reg = (username: string) => registerUser(old.deps, RegisterUser.parse(newUser({ username })), meta);
    await reg('plain_one');
    await reg('scoop_1');
    // History from before the rule: the skeleton column was empty when the look-alike registered.
    await old.pool.query('UPDATE users SET username_skeleton = NULL');
    await reg('\u0455\u0441\u043e\u043e\u0440_1'); // all-Cyrillic "scoop_1"
    await old.pool.query('UPDATE users SET username_skeleton = NULL');
    await reg('many_names');
    await old.pool.query("UPDATE users SET username_skeleton = NULL WHERE username = 'many_names'");

    expect(await backfillUsernameSkeletons(old.pool, silentLog, 2)).toBe(3);
    expect(await skeletons()).toEqual({
      plain_one: usernameSkeleton('plain_one'),
      scoop_1: usernameSkeleton('scoop_1'),
      '\u0455\u0441\u043e\u043e\u0440_1': null,
      many_names: usernameSkeleton('many_names'),
    });
    // a new look-alike is still refused, through the older account
    expect((await rejection(reg('sc0op_1'))).fields).toEqual([lookAlike]);
    // running again changes nothing
    expect(await backfillUsernameSkeletons(old.pool, silentLog)).toBe(0);

    const events = await withTransaction(old.pool, (client) => rebuildUsersProjection(client));
    expect(events).toBeGreaterThanOrEqual(4);
    expect(await skeletons()).toEqual({
      plain_one: usernameSkeleton('plain_one'),
      scoop_1: usernameSkeleton('scoop_1'),
      '\u0455\u0441\u043e\u043e\u0440_1': null,
      many_names: usernameSkeleton('many_names'),
    });
  });
});
