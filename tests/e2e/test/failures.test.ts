import { Rpcs, rpcSubject } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import { testInfra } from '@um/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, http, newUser, spawnApp, System } from './harness.js';

const systems: System[] = [];
afterAll(async () => {
  await Promise.all(systems.map((s) => s.stop()));
});

describe('when services are missing or slow', () => {
  it('answers 503 after a brief retry (a replica may be restarting) when nobody serves the call, and readyz says so', async () => {
    const sys = new System({ RPC_TIMEOUT_MS: '3000', RPC_UNAVAILABLE_RETRY_MS: '500' });
    systems.push(sys);
    const gw = await sys.spawn('gateway');
    await gw.live();
    const res = await http(gw.url, 'POST', '/register', { body: newUser() });
    expect(res.status).toBe(503);
    expect(res.ms).toBeGreaterThanOrEqual(300);
    expect(res.ms).toBeLessThan(1500);
    expect(res.body.detail).toMatch(/not available/);
    const ready = await http(gw.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ nats: 'ok', users: 'unavailable', auth: 'unavailable' });
  });

  it('answers 504 after the bounded timeout when a service never replies', async () => {
    const sys = new System({ RPC_TIMEOUT_MS: '700' });
    systems.push(sys);
    const nc = await connect({ servers: testInfra().natsUrl });
    // A responder that takes the request and never answers.
    const sub = nc.subscribe(rpcSubject(sys.namespace, Rpcs.users.register.name), { callback: () => undefined });
    const gw = await sys.spawn('gateway');
    await gw.live();
    const res = await http(gw.url, 'POST', '/register', { body: newUser() });
    expect(res.status).toBe(504);
    expect(res.ms).toBeGreaterThanOrEqual(650);
    expect(res.ms).toBeLessThan(3000);
    sub.unsubscribe();
    await nc.close();
  });
});

describe('process lifecycle', () => {
  it('refuses invalid configuration at once, naming the variable', async () => {
    const { databaseUrl, natsUrl } = testInfra();
    const cases: Array<{ app: App; env: Record<string, string>; name: string }> = [
      { app: 'users-service' as const, env: { BCRYPT_COST: '3' }, name: 'BCRYPT_COST' },
      { app: 'users-service' as const, env: { ADMIN_USERNAME: 'admin_only' }, name: 'ADMIN_EMAIL' },
      { app: 'auth-service' as const, env: { ACCESS_TOKEN_TTL: 'soon' }, name: 'ACCESS_TOKEN_TTL' },
      { app: 'auth-service' as const, env: { SIGNING_KEY_KEK: 'c2hvcnQta2V5' }, name: 'SIGNING_KEY_KEK: must be exactly 32 bytes' },
      { app: 'gateway' as const, env: { ACCESS_TOKEN_TTL: '25h' }, name: 'ACCESS_TOKEN_TTL: must be at most 24 hours' },
      { app: 'gateway' as const, env: { PORT: 'eighty' }, name: 'PORT' },
      { app: 'gateway' as const, env: { NATS_NAMESPACE: 'has.dots' }, name: 'NATS_NAMESPACE' },
      { app: 'mail-service' as const, env: { SMTP_URL: 'http://mail' }, name: 'SMTP_URL' },
    ];
    for (const c of cases) {
      const p = await spawnApp(c.app, { DATABASE_URL: databaseUrl, NATS_URL: natsUrl, ...c.env });
      const started = Date.now();
      expect(await p.waitExit()).toBe(1);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(p.output).toContain(c.name);
      expect(p.output).toMatch(/Invalid configuration/);
    }
  });

  it('stops every process cleanly on SIGTERM within 10 seconds', async () => {
    const sys = await System.start({ mail: 1 });
    const results = await Promise.all(sys.procs.map((p) => p.stop()));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(10_000);
    }
    systems.push(sys);
  });
});
