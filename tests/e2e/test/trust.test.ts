import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

/** Attacks from inside: a stranger after the bootstrap admin's name, an admin about to be demoted. */

const ADMIN = { username: 'bootstrap_admin', email: 'bootstrap.admin@example.com', password: 'the-configured-admin-pw' };

async function login(url: string, username: string, password: string) {
  const r = await http(url, 'POST', '/login', { body: { username, password } });
  return r;
}

describe('the bootstrap admin never promotes a stranger', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await System.start({ env: { ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  });
  afterAll(() => sys?.stop());

  it('a stranger who registers the deleted configured admin name and email is not admin after a restart, and ADMIN_PASSWORD does not log in', async () => {
    const boot = await login(sys.url, ADMIN.username, ADMIN.password);
    expect(boot.status).toBe(200);
    expect(boot.body.user.role).toBe('admin');
    // The configured admin creates a second admin, who deletes the configured account.
    const second = { ...newUser(), role: 'admin' };
    expect((await http(sys.url, 'POST', '/users', { token: boot.body.access_token, body: second })).status).toBe(201);
    const secondSession = await login(sys.url, second.username, second.password);
    expect((await http(sys.url, 'DELETE', `/users/${boot.body.user.id}`, { token: secondSession.body.access_token })).status).toBe(204);
    // A stranger takes the name and the address, with a password of their own.
    const stranger = newUser({ username: ADMIN.username, email: ADMIN.email, password: 'strangers-own-pass' });
    expect((await http(sys.url, 'POST', '/register', { body: stranger })).status).toBe(201);

    // The next start, with the same environment.
    const old = sys.procs.find((p) => p.app === 'users-service')!;
    await old.stop();
    const restarted = await sys.spawn('users-service', {}, 'users-restarted');
    await restarted.ready();
    expect(restarted.output).not.toMatch(/promoted/);

    const mine = await login(sys.url, ADMIN.username, 'strangers-own-pass');
    expect(mine.status).toBe(200);
    expect(mine.body.user.role).toBe('user');
    expect(decodeJwt(mine.body.access_token).role).toBe('user');
    expect((await http(sys.url, 'POST', '/users', { token: mine.body.access_token, body: { ...newUser(), role: 'admin' } })).status).toBe(403);
    expect((await login(sys.url, ADMIN.username, ADMIN.password)).status).toBe(401);
  });
});

describe('a demoted admin keeps no admin token', () => {
  let sys: System;
  const boss = { username: 'race_boss', email: 'race.boss@example.com', password: 'race-boss-password' };
  beforeAll(async () => {
    sys = await System.start({ auth: 2, gateways: 2, env: { ADMIN_USERNAME: boss.username, ADMIN_EMAIL: boss.email, ADMIN_PASSWORD: boss.password } });
  });
  afterAll(() => sys?.stop());

  for (const round of [1, 2, 3])
    it(`round ${round}: forty refreshes racing the demotion yield no token that is accepted as admin afterwards`, async () => {
      const bossLogin = (await login(sys.url, boss.username, boss.password)).body;
      const bossToken = bossLogin.access_token as string;
      const victim = newUser();
      const created = await http(sys.url, 'POST', '/users', { token: bossToken, body: { ...victim, role: 'admin' } });
      expect(created.status).toBe(201);
      const victimId = created.body.id as string;
      const sessions = [];
      for (let i = 0; i < 40; i++) sessions.push((await login(sys.url, victim.username, victim.password)).body);
      const gateways = sys.gateways().map((g) => g.url);

      // Forty refreshes 2 ms apart while the boss demotes the victim.
      const refreshes = sessions.map((s, i) =>
        new Promise((r) => setTimeout(r, i * 2)).then(() => http(gateways[i % 2]!, 'POST', '/refresh', { body: { refresh_token: s.refresh_token } })),
      );
      const demotion = new Promise((r) => setTimeout(r, 20 + round * 10)).then(() => http(sys.url, 'PUT', `/users/${victimId}/role`, { token: bossToken, body: { role: 'user' } }));
      const [demoted, ...answers] = await Promise.all([demotion, ...refreshes]);
      expect(demoted.status).toBe(200);

      const issued = answers.filter((a) => a.status === 200).map((a) => a.body.access_token as string);
      expect(issued.length).toBeGreaterThan(0);
      const tokens = [...issued, ...sessions.map((s) => s.access_token as string)];
      await new Promise((r) => setTimeout(r, 1_000));
      // Every token that says admin is refused everywhere; the ones that work say user.
      let acceptedAsAdmin = 0;
      for (const token of tokens) {
        const claims = decodeJwt(token);
        for (const g of gateways) {
          const me = await http(g, 'GET', '/users/me', { token });
          // Another user's history: an admin route, checked by the gateway and by users-service.
          const admin = await http(g, 'GET', `/users/${bossLogin.user.id}/history`, { token });
          if (claims.role === 'admin') expect(me.status).toBe(401);
          else expect(me.status).toBe(200);
          if (admin.status === 200 && claims.role === 'admin') acceptedAsAdmin++;
        }
      }
      expect(acceptedAsAdmin).toBe(0);
    });

  it('an existing admin token of a demoted admin is refused on every admin route within 1 s', async () => {
    const bossToken = (await login(sys.url, boss.username, boss.password)).body.access_token as string;
    const victim = newUser();
    const created = await http(sys.url, 'POST', '/users', { token: bossToken, body: { ...victim, role: 'admin' } });
    const other = await http(sys.url, 'POST', '/users', { token: bossToken, body: newUser() });
    const token = (await login(sys.url, victim.username, victim.password)).body.access_token as string;
    expect((await http(sys.url, 'GET', `/users/${other.body.id}/history`, { token })).status).toBe(200);
    expect((await http(sys.url, 'PUT', `/users/${created.body.id}/role`, { token: bossToken, body: { role: 'user' } })).status).toBe(200);
    const started = Date.now();
    const adminRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/users', { ...newUser(), role: 'admin' }],
      ['PUT', `/users/${other.body.id}/role`, { role: 'admin' }],
      ['PATCH', `/users/${other.body.id}`, { fio: 'Changed By A Demoted Admin' }],
      ['GET', `/users/${other.body.id}/history`],
      ['DELETE', `/users/${other.body.id}`],
      ['POST', `/user_delete/${other.body.id}`],
    ];
    for (const g of sys.gateways())
      for (const [method, path, body] of adminRoutes) {
        let status = 0;
        do {
          status = (await http(g.url, method, path, { token, ...(body ? { body } : {}) })).status;
        } while (status < 400 && Date.now() - started < 1_000);
        expect([401, 403], `${g.name} ${method} ${path}`).toContain(status);
      }
    expect(Date.now() - started).toBeLessThan(5_000);
    // The other user is untouched.
    const still = await http(sys.url, 'GET', `/users/${other.body.id}`, { token: bossToken });
    expect(still.status).toBe(200);
    expect(still.body.role).toBe('user');
  });
});
