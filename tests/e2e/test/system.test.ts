import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

const ADMIN = { username: 'root_admin', email: 'root.admin@example.com', password: 'admin-password-e2e' };

let sys: System;
const secrets: string[] = [ADMIN.password];

beforeAll(async () => {
  sys = await System.start({
    users: 2,
    auth: 2,
    gateways: 2,
    env: { ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
  });
});
afterAll(() => sys?.stop());

async function registerAndLogin(overrides: Record<string, unknown> = {}) {
  const input = newUser(overrides);
  secrets.push(input.password);
  const reg = await http(sys.url, 'POST', '/register', { body: input });
  expect(reg.status).toBe(201);
  const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
  expect(login.status).toBe(200);
  secrets.push(login.body.access_token, login.body.refresh_token);
  return { input, user: reg.body, token: login.body.access_token as string };
}

async function adminToken(): Promise<string> {
  const res = await http(sys.url, 'POST', '/login', { form: { username: ADMIN.username, password: ADMIN.password, grant_type: 'password' } });
  expect(res.status).toBe(200);
  secrets.push(res.body.access_token);
  return res.body.access_token;
}

describe('the running system', () => {
  it('is ready on every gateway', async () => {
    for (const g of sys.gateways()) {
      const res = await http(g.url, 'GET', '/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', checks: { nats: 'ok', users: 'ok', auth: 'ok' } });
      expect((await http(g.url, 'GET', '/healthz')).status).toBe(200);
    }
  });

  it('registers, refuses duplicates and invalid input, and logs in with JSON or a form', async () => {
    const input = newUser({ tags: 'one, two,one' });
    secrets.push(input.password);
    const reg = await http(sys.url, 'POST', '/register', { body: input });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({
      username: input.username,
      email: input.email,
      role: 'user',
      email_verified: false,
      config: { fio: input.fio, birthday: input.birthday, tags: ['one', 'two'] },
    });
    expect(Object.keys(reg.body).sort()).toEqual(['config', 'created_at', 'email', 'email_verified', 'id', 'role', 'updated_at', 'username']);

    const dup = await http(sys.url, 'POST', '/register', { body: { ...newUser(), username: input.username.toUpperCase() } });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(dup.body.errors).toEqual([{ field: 'username', message: 'is already taken' }]);

    const bad = await http(sys.url, 'POST', '/register', { body: { username: 'abc', email: 'nope', password: 'short', fio: '', birthday: '2999-01-01' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['birthday', 'email', 'fio', 'password', 'username']);

    const json = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 900, refresh_token: expect.any(String), user: reg.body });
    const form = await http(sys.url, 'POST', '/login', { form: { username: input.email, password: input.password } });
    expect(form.status).toBe(200);
    secrets.push(json.body.access_token, form.body.access_token, json.body.refresh_token, form.body.refresh_token);
  });

  it('answers an unknown user and a wrong password with the same 401', async () => {
    const { input } = await registerAndLogin();
    const wrong = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: 'not-the-password' } });
    const unknown = await http(sys.url, 'POST', '/login', { body: { username: 'no_such_user_anywhere', password: 'not-the-password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const { request_id: _a, ...w } = wrong.body;
    const { request_id: _b, ...u } = unknown.body;
    expect(w).toEqual(u);
  });

  it('lists and searches users for authenticated callers only', async () => {
    const tag = `tag${Date.now()}`;
    const a = await registerAndLogin({ tags: [tag, 'x'], fio: 'Searchable Person' });
    const b = await registerAndLogin({ tags: [tag], birthday: '1970-01-01' });
    expect((await http(sys.url, 'GET', '/users')).status).toBe(401);
    expect((await http(sys.url, 'GET', `/users/search?tags=${tag}`)).status).toBe(401);

    const list = await http(sys.url, 'GET', '/users?limit=1', { token: a.token });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect(Number(list.headers.get('x-total-count'))).toBeGreaterThanOrEqual(3);
    expect(list.headers.get('link')).toContain('rel="next"');
    expect(list.headers.get('x-total-count-exact')).toBe('true');
    // The next link carries a cursor; following it gives the next user in id order.
    const next = /<([^>]+)>; rel="next"/.exec(list.headers.get('link')!)![1]!;
    expect(next).toMatch(/^\/users\?limit=1&cursor=[A-Za-z0-9_-]+$/);
    const second = await http(sys.url, 'GET', next, { token: a.token });
    expect(second.status).toBe(200);
    const firstTwo = await http(sys.url, 'GET', '/users?limit=2', { token: a.token });
    expect([list.body[0].id, second.body[0].id]).toEqual(firstTwo.body.map((u: { id: string }) => u.id));

    const byTag = await http(sys.url, 'GET', `/users/search?tags=${tag}`, { token: b.token });
    expect(byTag.body.map((u: { id: string }) => u.id)).toEqual([a.user.id, b.user.id]);
    const combined = await http(sys.url, 'GET', `/users/search?tags=${tag},x&fio=SEARCHABLE`, { token: b.token });
    expect(combined.body.map((u: { id: string }) => u.id)).toEqual([a.user.id]);
    const byBirthday = await http(sys.url, 'GET', `/users/search?tags=${tag}&birthday=1970-01-01`, { token: b.token });
    expect(byBirthday.body.map((u: { id: string }) => u.id)).toEqual([b.user.id]);
    const hostile = await http(sys.url, 'GET', `/users/search?username=${encodeURIComponent("' OR 1=1; --")}`, { token: b.token });
    expect(hostile.status).toBe(200);
    expect(hostile.body).toEqual([]);
  });

  it('lets users delete themselves, admins delete anyone, and nobody else', async () => {
    const alice = await registerAndLogin();
    const bob = await registerAndLogin();
    const admin = await adminToken();

    expect((await http(sys.url, 'POST', `/user_delete/${alice.user.id}`)).status).toBe(401);
    const forbidden = await http(sys.url, 'POST', `/user_delete/${alice.user.id}`, { token: bob.token });
    expect(forbidden.status).toBe(403);

    const self = await http(sys.url, 'POST', `/user_delete/${alice.user.id}`, { token: alice.token });
    expect(self.status).toBe(200);
    expect(self.body).toEqual(alice.user);

    const byAdmin = await http(sys.url, 'POST', `/user_delete/${bob.user.id}`, { token: admin });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.id).toBe(bob.user.id);
    expect((await http(sys.url, 'POST', `/user_delete/${bob.user.id}`, { token: admin })).status).toBe(404);
    expect((await http(sys.url, 'POST', '/user_delete/01900000-0000-7000-8000-000000000000', { token: admin })).status).toBe(404);
  });

  it("refuses a deleted user's token on every gateway within a second, also after a gateway restart", async () => {
    const carol = await registerAndLogin();
    for (const g of sys.gateways()) expect((await http(g.url, 'GET', '/users?limit=1', { token: carol.token })).status).toBe(200);
    const deletedAt = Date.now();
    expect((await http(sys.url, 'POST', `/user_delete/${carol.user.id}`, { token: carol.token })).status).toBe(200);
    for (const g of sys.gateways()) {
      let status = 0;
      while (Date.now() - deletedAt < 1000) {
        status = (await http(g.url, 'GET', '/users?limit=1', { token: carol.token })).status;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status, `${g.name} still accepts the token`).toBe(401);
    }
    const refused = await http(sys.url, 'GET', '/users', { token: carol.token });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const old = sys.gateways()[0]!;
    await old.stop();
    const fresh = await sys.spawn('gateway', {}, 'gateway-restarted');
    await fresh.ready();
    expect((await http(fresh.url, 'GET', '/users?limit=1', { token: carol.token })).status).toBe(401);
  });

  it('gives exactly one 201 and one 409 to two concurrent registrations of one username', async () => {
    for (let i = 0; i < 3; i++) {
      const a = newUser();
      const b = { ...newUser(), username: a.username };
      const [g1, g2] = sys.gateways();
      const statuses = (await Promise.all([http(g1!.url, 'POST', '/register', { body: a }), http((g2 ?? g1)!.url, 'POST', '/register', { body: b })])).map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409]);
    }
  });

  it('spreads calls over both replicas of each service', async () => {
    const { token } = await registerAndLogin();
    for (let i = 0; i < 30; i++) await http(sys.url, 'GET', '/users?limit=1', { token });
    for (let i = 0; i < 10; i++) await http(sys.url, 'POST', '/login', { body: { username: 'nobody_at_all', password: 'whatever-pass' } });
    for (const name of ['users-1', 'users-2', 'auth-1', 'auth-2']) {
      const proc = sys.procs.find((p) => p.name === name)!;
      const served = proc.logs.filter((l) => l.msg === 'rpc').length;
      expect(served, `${name} served no calls`).toBeGreaterThan(0);
    }
  });

  it("carries the request id from the gateway into the services' log lines", async () => {
    const requestId = `trace-${Date.now()}`;
    const res = await http(sys.url, 'POST', '/register', { body: newUser(), headers: { 'x-request-id': requestId } });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    await new Promise((r) => setTimeout(r, 100));
    const gatewayLine = sys.procs
      .filter((p) => p.app === 'gateway')
      .flatMap((p) => p.logs)
      .find((l) => l.request_id === requestId);
    expect(gatewayLine).toMatchObject({ req: { method: 'POST', path: '/register' }, res: { status: 201 }, duration_ms: expect.any(Number) });
    const serviceLines = sys.procs
      .filter((p) => p.app === 'users-service')
      .flatMap((p) => p.logs)
      .filter((l) => l.request_id === requestId);
    expect(serviceLines.length).toBeGreaterThan(0);
  });

  it('never writes a password or a token into any log', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const output = sys.output;
    expect(output.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(output.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 6)}…`).toBe(false);
    expect(output).not.toMatch(/\$2[aby]\$\d\d\$/);
  });
});
