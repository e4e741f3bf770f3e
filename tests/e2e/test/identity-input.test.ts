import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System, type Reply } from './harness.js';

/**
 * The names, texts and passwords through the gateway, on real processes. bcrypt runs at a
 * real cost here so that skipping it shows, and the per-address limits are tight so that counting
 * a refused request would show too.
 */
let sys: System;
beforeAll(async () => {
  sys = await System.start({ env: { BCRYPT_COST: '12', REGISTRATION_RATE_LIMIT: '4', LOGIN_THROTTLE_FREE_ATTEMPTS: '3' } });
});
afterAll(() => sys?.stop());

/** RPC log lines of one process so far (each RPC the service answered). */
const rpcs = (name: string) => sys.procs.find((p) => p.name === name)!.logs.filter((l) => l.msg === 'rpc').length;
const fieldErrors = (r: Reply) => (r.body as { errors?: unknown }).errors;

describe('identity input through the gateway', () => {
  let owner: ReturnType<typeof newUser>;
  let hashMs = 0;

  it('registers the name the look-alikes copy (one real bcrypt hash)', async () => {
    owner = newUser({ username: 'root_admin', email: 'owner.e2e@example.com', password: 'a long owner passphrase' });
    const r = await http(sys.url, 'POST', '/register', { body: owner });
    expect(r.status).toBe(201);
    hashMs = r.ms;
  });

  it.each([
    ['Cyrillic а (U+0430)', 'root_\u0430dmin', 'must not mix scripts: use one script, or Latin with one other script except Cyrillic or Greek'],
    ['U+3164 in front', '\u3164root_admin', 'must not contain invisible characters'],
    ['U+115F in front', '\u115Froot_admin', 'must not contain invisible characters'],
    ['U+034F inside', 'root\u034Fadmin', 'must not contain invisible characters'],
    ['U+FE0F inside', 'root\uFE0Fadmin', 'must not contain invisible characters'],
    [
      '30 stacked combining marks',
      `a${'\u0301'.repeat(30)}dmin`,
      'may have at most 3 combining marks on a character, never the same one twice in a row, and must not begin with one',
    ],
    ['only dots', '......', 'must contain at least one letter or digit'],
  ])('refuses the username with %s: 422 from the gateway, no service called', async (_label, username, message) => {
    const before = rpcs('users-1');
    const r = await http(sys.url, 'POST', '/register', { body: newUser({ username }) });
    expect(r.status).toBe(422);
    expect(fieldErrors(r)).toEqual([{ field: 'username', message }]);
    expect(rpcs('users-1')).toBe(before);
  });

  it('refuses fio "a\\ud800" sent as raw JSON text with 422, not 500, before any hashing', async () => {
    const u = newUser();
    const raw = `{"username":"${u.username}","email":"${u.email}","password":"${u.password}","fio":"a\\ud800","birthday":"${u.birthday}"}`;
    const before = rpcs('users-1');
    const r = await http(sys.url, 'POST', '/register', { body: raw });
    expect(r.status).toBe(422);
    expect(fieldErrors(r)).toEqual([{ field: 'fio', message: 'must be valid Unicode text (no unpaired surrogates)' }]);
    expect(rpcs('users-1')).toBe(before);
    expect(r.ms).toBeLessThan(hashMs);
  });

  it('refuses fio and tags with bidi overrides or C1 controls', async () => {
    for (const body of [newUser({ fio: 'Ann\u202Egnp.exe' }), newUser({ tags: ['ok', '\u2066x\u2069'] }), newUser({ fio: 'Ann\u0085Lee' })]) {
      const r = await http(sys.url, 'POST', '/register', { body });
      expect(r.status).toBe(422);
    }
  });

  it.each([
    ['password', 'is one of the most common passwords'],
    ['12345678', 'is one of the most common passwords'],
    ['        ', 'must not be blank'],
    ['<username>', 'must not contain the username'],
    ['<email local part>', 'must not contain the email address (the part before "@")'],
  ])('refuses the password %j with 422 naming the rule, fast (no bcrypt) and without counting against the limit', async (password, message) => {
    const u = newUser();
    // the name rules apply to the registration's own username and email
    u.email = `inbox.${u.username.slice(4)}@example.com`;
    u.password = password === '<username>' ? `my ${u.username.toUpperCase()} pw` : password === '<email local part>' ? `x-${u.email.split('@')[0]}-x` : password;
    const r = await http(sys.url, 'POST', '/register', { body: u });
    expect(r.status).toBe(422);
    expect(fieldErrors(r)).toEqual([{ field: 'password', message }]);
    expect(r.ms).toBeLessThan(hashMs / 2);
  });

  it('refuses lone-surrogate passwords everywhere with 422, and they never count as login attempts', async () => {
    const reg = await http(sys.url, 'POST', '/register', { body: newUser({ password: 'pass\ud800word-long' }) });
    expect(reg.status).toBe(422);
    expect(fieldErrors(reg)).toEqual([{ field: 'password', message: 'must be valid Unicode text (no unpaired surrogates)' }]);
    // More than the three free attempts (this address logs in from here on): a counted attempt would delay the real login below.
    for (let i = 0; i < 5; i++) {
      const r = await http(sys.url, 'POST', '/login', { body: `{"username":"root_admin","password":"${owner.password}\\udc0${i}"}` });
      expect(r.status).toBe(422);
      expect(fieldErrors(r)).toEqual([{ field: 'password', message: 'must be valid Unicode text (no unpaired surrogates)' }]);
    }
    const login = await http(sys.url, 'POST', '/login', { body: { username: 'root_admin', password: owner.password } });
    expect(login.status).toBe(200);
  });

  it('refuses a weak new password before checking the current one or ending any session', async () => {
    const first = await http(sys.url, 'POST', '/login', { body: { username: 'root_admin', password: owner.password } });
    const second = await http(sys.url, 'POST', '/login', { body: { username: 'root_admin', password: owner.password } });
    expect([first.status, second.status]).toEqual([200, 200]);
    for (const [new_password, message] of [
      ['qwerty123', 'is one of the most common passwords'],
      ['my root_admin pw', 'must not contain the username'],
    ]) {
      const r = await http(sys.url, 'PUT', '/users/me/password', { token: first.body.access_token, body: { current_password: 'wrong current password', new_password } });
      expect(r.status).toBe(422);
      expect(fieldErrors(r)).toEqual([{ field: 'new_password', message }]);
    }
    // The other session is alive: its refresh token still works.
    expect((await http(sys.url, 'POST', '/refresh', { body: { refresh_token: second.body.refresh_token } })).status).toBe(200);
  });

  it('answers 409 for look-alikes of an existing name (within the registration limit: refused input above was not counted)', async () => {
    const paypal = await http(sys.url, 'POST', '/register', { body: newUser({ username: 'paypal_1' }) });
    expect(paypal.status).toBe(201);
    for (const username of ['\u0440\u0430\u0443\u0440\u0430\u04c0_1', 'paypaI_1']) {
      const r = await http(sys.url, 'POST', '/register', { body: newUser({ username }) });
      expect(r.status).toBe(409);
      expect(fieldErrors(r)).toEqual([{ field: 'username', message: 'is too similar to an existing username' }]);
    }
  });
});
