import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { natsPasswordVariable, natsUsers } from '@um/platform';
import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, spawnApp, System, type Proc } from './harness.js';
import { freePort } from './free-port.js';
import { NATS_BIN } from './private-nats.js';
import { SmtpSink } from './smtp.js';

const CONFIG = fileURLToPath(new URL('../../../deploy/nats/nats-server.conf', import.meta.url));
const ADMIN = { username: 'perm_admin', email: 'perm.admin@example.com', password: 'admin-password-perm' };

/** Every NATS user of the generated config: one per service, one per gateway replica. */
const USERS = natsUsers().map((u) => u.user);
type NatsUserName = 'gateway-1' | 'gateway-2' | 'users-service' | 'auth-service' | 'mail-service';
/** A fresh password per NATS user per run, handed to the server through its environment as in compose. */
const passwords = Object.fromEntries(USERS.map((u) => [u, `pw-${u}-${randomBytes(9).toString('hex')}`])) as Record<NatsUserName, string>;

let natsProc: ChildProcess | undefined;
const natsLog: string[] = [];
let url = '';
const storeDir = mkdtempSync(join(tmpdir(), 'um-nats-perm-'));
let smtp: SmtpSink;
let sys: System;
let gateway2: Proc;
const opened: NatsConnection[] = [];

const as = async (user: NatsUserName, pass = passwords[user]) => {
  // Named "probe", so the violations these connections provoke are told apart from the apps'.
  const nc = await connect({ servers: url, name: 'probe', user, pass, reconnect: false, inboxPrefix: `_INBOX_${user}` });
  opened.push(nc);
  return nc;
};
const credentialsOf = (user: NatsUserName) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });

/** What a rejected promise rejected with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** The permission errors the server sent to one connection while `act` ran. */
async function violationsDuring(nc: NatsConnection, act: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') seen.push(s.error.message);
  })();
  await act();
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200));
  return seen;
}

beforeAll(async () => {
  if (!NATS_BIN) throw new Error('This test runs its own NATS server: install nats-server (on PATH or /usr/sbin) or set NATS_SERVER_BIN');
  const port = await freePort();
  const monitorPort = await freePort();
  url = `nats://127.0.0.1:${port}`;
  const env = { ...process.env, ...Object.fromEntries(USERS.map((u) => [natsPasswordVariable(u), passwords[u as NatsUserName]])) };
  natsProc = spawn(NATS_BIN, ['-c', CONFIG, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', storeDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [natsProc.stdout!, natsProc.stderr!]) createInterface({ input: s }).on('line', (l) => natsLog.push(l));
  // Ready once its monitoring port's /healthz answers 200 (JetStream included).
  const healthy = async () => (await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200;
  await eventually(async () => (await healthy()) || (natsProc!.exitCode !== null && Promise.reject(new Error(natsLog.join('\n')))), 10_000);

  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({
    mail: 1,
    // The config is the deployment's: no namespace.
    env: { NATS_URL: url, NATS_NAMESPACE: '', SMTP_URL: smtpUrl, PUBLIC_URL: 'http://public.example', RELAY_POLL_MS: '200' },
    appEnv: {
      // Replica 1 by its NATS user alone; replica 2 (started below) names itself with GATEWAY_REPLICA too.
      gateway: credentialsOf('gateway-1'),
      'users-service': { ...credentialsOf('users-service'), ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      'auth-service': credentialsOf('auth-service'),
      'mail-service': credentialsOf('mail-service'),
    },
  });
  gateway2 = await sys.spawn('gateway', { ...credentialsOf('gateway-2'), GATEWAY_REPLICA: '2' }, 'gateway-2');
  await gateway2.ready();
}, 90_000);

afterAll(async () => {
  await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
  await sys?.stop();
  await smtp?.stop();
  if (natsProc && natsProc.exitCode === null) {
    const exited = new Promise((r) => natsProc!.once('exit', r));
    natsProc.kill('SIGTERM');
    await exited;
  }
  rmSync(storeDir, { recursive: true, force: true });
});

describe('NATS with the deployment permission config', () => {
  it('refuses anonymous connections and wrong passwords', async () => {
    expect((await rejection(connect({ servers: url, reconnect: false }))).message).toMatch(/Authorization Violation/i);
    expect((await rejection(connect({ servers: url, user: 'gateway-1', pass: 'guessed', reconnect: false }))).message).toMatch(/Authorization Violation/i);
    // There is no shared gateway user any more, and one replica's password does not open another.
    expect((await rejection(connect({ servers: url, user: 'gateway', pass: passwords['gateway-1'], reconnect: false }))).message).toMatch(/Authorization Violation/i);
    expect((await rejection(connect({ servers: url, user: 'gateway-2', pass: passwords['gateway-1'], reconnect: false }))).message).toMatch(/Authorization Violation/i);
  });

  it.each([
    ['NATS_USER/NATS_PASSWORD', () => ({ NATS_USER: 'gateway-1', NATS_PASSWORD: 'wrong-password-xyz' })],
    ['credentials in NATS_URL', () => ({ NATS_URL: url.replace('//', '//gateway-1:wrong-password-xyz@'), GATEWAY_REPLICA: '1' })],
  ])('a service started with refused credentials (%s) stops at once, saying so without the password', async (_how, creds) => {
    const p = await spawnApp('gateway', { ...sys.env, ...creds(), PORT: '0' }, 'gateway-bad-creds');
    const code = await Promise.race([p.waitExit(), new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    if (code === 'still running') await p.kill();
    expect(code).toBe(1);
    expect(p.output).toMatch(/refused the credentials of gateway/);
    expect(p.output).not.toContain('wrong-password-xyz');
  });

  it("mail-service's credentials cannot set a role, answer users RPCs or publish users events", async () => {
    const nc = await as('mail-service');
    const setRole = await rejection(nc.request('um.rpc.users.set_role', JSON.stringify({ user_id: 1, role: 'admin' }), { timeout: 5000 }));
    expect(setRole.message).toMatch(/Permissions Violation for Publish to "um\.rpc\.users\.set_role"/);

    const sub = nc.subscribe('um.rpc.users.>');
    expect(String(await sub.closed)).toMatch(/Permissions Violation for Subscription to "um\.rpc\.users\.>"/);

    const published = await violationsDuring(nc, async () => nc.publish('um.evt.users.UserRoleChanged', '{}'));
    expect(published.join('\n')).toMatch(/Permissions Violation for Publish to "um\.evt\.users\.UserRoleChanged"/);
    // The server's own record of the refusal, in the form the last test searches for.
    await eventually(async () => natsLog.some((l) => /nats\.js:probe" - Publish Violation - User "mail-service", Subject "um\.rpc\.users\.set_role"/.test(l)), 5_000);
    // What it needs still works: reading a user (its job is emailing them).
    const get = await nc.request('um.rpc.users.get', JSON.stringify({ user_id: 999_999_999 }), { timeout: 10_000 });
    expect(get.json()).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it("auth-service's credentials cannot set a role nor read another service's replies", async () => {
    const nc = await as('auth-service');
    const setRole = await rejection(nc.request('um.rpc.users.set_role', '{}', { timeout: 5000 }));
    expect(setRole.message).toMatch(/Permissions Violation for Publish to "um\.rpc\.users\.set_role"/);
    for (const subject of ['_INBOX_gateway-1.>', '_INBOX.>']) expect(String(await nc.subscribe(subject).closed)).toMatch(/Permissions Violation for Subscription/);
  });

  it("one gateway replica's credentials cannot read another replica's replies; each replica still works", async () => {
    const a = await as('gateway-1');
    const b = await as('gateway-2');
    for (const subject of ['_INBOX_gateway-2.>', '_INBOX_gateway-2.*.*', '_INBOX_gateway-3.>', '_INBOX_gateway.>', '_INBOX.>', '>'])
      expect(String(await a.subscribe(subject).closed)).toMatch(/Permissions Violation for Subscription/);
    // Nor can it reach them by publishing into them (a forged reply).
    const forged = await violationsDuring(a, async () => a.publish('_INBOX_gateway-2.x.1', '{}'));
    expect(forged.join('\n')).toMatch(/Permissions Violation for Publish to "_INBOX_gateway-2\.x\.1"/);
    // Each replica's own requests are answered (to its own inbox).
    for (const nc of [a, b])
      expect((await nc.request('um.rpc.users.get', JSON.stringify({ user_id: 999_999_999 }), { timeout: 10_000 })).json()).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
    // Both running gateways serve a login: each reads its own replies, tokens included.
    for (const gw of [sys.url, gateway2.url]) {
      const login = await http(gw, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } });
      expect(login.status).toBe(200);
      expect((await http(gw, 'GET', '/users/me', { token: login.body.access_token })).body).toMatchObject({ username: ADMIN.username });
    }
    await eventually(async () => natsLog.some((l) => /nats\.js:probe" - Subscription Violation - User "gateway-1", Subject "_INBOX_gateway-2\.>"/.test(l)), 5_000);
  });

  it("the gateway's credentials alone act for no one: an asserted x-actor-id without the actor's valid token grants nothing", async () => {
    const admin = await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } });
    const adminId = String(admin.body.user.id);
    const adminToken = admin.body.access_token as string;
    const victim = await http(sys.url, 'POST', '/register', { body: newUser() });
    const nc = await as('gateway-2');
    const call = async (subject: string, body: unknown, h: Record<string, string>) => {
      const hdrs = natsHeaders();
      for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
      if (!('idempotency-key' in h)) hdrs.set('idempotency-key', `probe-${randomBytes(6).toString('hex')}`);
      return (await nc.request(subject, JSON.stringify(body), { timeout: 10_000, headers: hdrs })).json<{ ok: boolean; error?: { code: string; id: string } }>();
    };
    const promote = { user_id: victim.body.id, role: 'admin' };
    // The admin's id alone, a forged token, or a valid token of someone else: all refused.
    expect(await call('um.rpc.users.set_role', promote, { 'x-actor-id': adminId })).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    expect(await call('um.rpc.users.set_role', promote, { 'x-actor-id': adminId, 'x-access-token': `${adminToken.slice(0, -4)}AAAA` })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    const [header, payload] = adminToken.split('.');
    expect(await call('um.rpc.users.set_role', promote, { 'x-actor-id': adminId, 'x-access-token': `${header}.${payload}.` })).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    expect(await call('um.rpc.users.delete', { user_id: Number(adminId) }, { 'x-actor-id': adminId })).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    // Nor can it end someone's sessions or take over their second factor.
    expect(await call('um.rpc.auth.logout', { user_id: Number(adminId), session_id: randomUUID(), all: true }, { 'x-actor-id': adminId })).toMatchObject({
      ok: false,
      error: { id: 'auth.not_token_session' },
    });
    expect(await call('um.rpc.users.start_totp', { user_id: victim.body.id }, { 'x-actor-id': String(victim.body.id) })).toMatchObject({
      ok: false,
      error: { id: 'users.not_token_subject' },
    });
    expect((await http(sys.url, 'GET', `/users/${victim.body.id}`, { token: adminToken })).body).toMatchObject({ role: 'user' });
    // With the admin's own valid token the same raw call works: the token is what grants.
    expect(await call('um.rpc.users.set_role', promote, { 'x-actor-id': adminId, 'x-access-token': adminToken })).toMatchObject({ ok: true });
  });

  it("the gateway's credentials reach set_role, but cannot write revocations or call internal RPCs", async () => {
    const nc = await as('gateway-2');
    // It reaches users-service: the answer is the service's own refusal of a malformed request.
    const reply = await nc.request('um.rpc.users.set_role', JSON.stringify({}), { timeout: 10_000 });
    expect(reply.json()).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    for (const subject of ['um.rpc.users.verify_credentials', 'um.rpc.users.issue_email_confirmation'])
      expect((await rejection(nc.request(subject, '{}', { timeout: 5000 }))).message).toMatch(/Permissions Violation for Publish/);
    const forged = await violationsDuring(nc, async () => nc.publish('$KV.um_revocations.user.x', '{}'));
    expect(forged.join('\n')).toMatch(/Permissions Violation for Publish to "\$KV\.um_revocations\.user\.x"/);
  });

  it('runs the whole system: register, confirmation email, login, role change, refresh, logout, delete, with no violation anywhere', async () => {
    const admin = await http(sys.url, 'POST', '/login', { body: { username: ADMIN.username, password: ADMIN.password } });
    expect(admin.status).toBe(200);
    const input = newUser();
    const reg = await http(sys.url, 'POST', '/register', { body: input });
    expect(reg.status).toBe(201);

    await eventually(async () => smtp.to(input.email).length === 1, 20_000);
    const link = smtp.to(input.email)[0]!.link!.replace('http://public.example', '');
    expect((await http(sys.url, 'GET', link)).body).toEqual({ status: 'confirmed' });

    const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ id: reg.body.id, email_verified: true });
    const promoted = await http(sys.url, 'PUT', `/users/${reg.body.id}/role`, { token: admin.body.access_token, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    // The revocation reached the gateway through the KV watch: the token that said "user" is refused.
    await eventually(async () => (await http(sys.url, 'GET', '/users/me', { token: login.body.access_token })).status === 401, 5_000);
    const refreshed = await http(sys.url, 'POST', '/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    const asAdmin = refreshed.body.access_token as string;
    expect((await http(sys.url, 'GET', '/users/me', { token: asAdmin })).body).toMatchObject({ role: 'admin' });
    // Logout: auth-service writes the session's revocation to the bucket, the gateway sees it.
    expect((await http(sys.url, 'POST', '/logout', { token: asAdmin })).status).toBe(204);
    await eventually(async () => (await http(sys.url, 'GET', '/users/me', { token: asAdmin })).status === 401, 5_000);
    expect((await http(sys.url, 'DELETE', `/users/${reg.body.id}`, { token: admin.body.access_token })).status).toBe(204);
    expect((await http(sys.url, 'GET', `/users/${reg.body.id}`, { token: admin.body.access_token })).status).toBe(404);

    // The server logs every refused publish or subscription: the probes above were refused, no app ever was.
    const violations = natsLog.filter((l) => / Violation - User /.test(l));
    expect(violations.filter((l) => !l.includes('nats.js:probe"'))).toEqual([]);
    expect(sys.output).not.toMatch(/Permissions Violation/i);
  });
});
