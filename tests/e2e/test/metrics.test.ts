import { eventually, metricValue, scrape } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System, type App, type Proc } from './harness.js';

let sys: System;

beforeAll(async () => {
  sys = await System.start({
    mail: 1,
    env: {
      METRICS_PORT: '0',
      REGISTRATION_RATE_LIMIT: '2',
      LOGIN_THROTTLE_FREE_ATTEMPTS: '1',
      // Nothing listens there: every email fails as "try later" and waits for its redelivery.
      SMTP_URL: 'smtp://127.0.0.1:1',
      MAIL_RETRY_BASE_MS: '60000',
      RELAY_POLL_MS: '200',
    },
  });
});
afterAll(async () => {
  await sys?.stop();
});

/** The metrics URL the process printed at start (it asked for a free port). */
function metricsUrl(p: Proc): string {
  const url = p.logs.find((l) => typeof l.metrics_url === 'string')?.metrics_url;
  if (typeof url !== 'string') throw new Error(`${p.name} printed no metrics URL:\n${p.output}`);
  return url;
}
const proc = (app: App) => sys.procs.find((p) => p.app === app)!;
const scrapeAll = async () =>
  Object.fromEntries(await Promise.all((['gateway', 'users-service', 'auth-service', 'mail-service'] as const).map(async (a) => [a, await scrape(metricsUrl(proc(a)))])));

describe('metrics of the whole system', () => {
  it('move with a journey on every service, and hold no personal data', async () => {
    const before = await scrapeAll();
    const [a, b, c] = [newUser(), newUser(), newUser()];
    const registered = [await http(sys.url, 'POST', '/register', { body: a }), await http(sys.url, 'POST', '/register', { body: b })];
    expect(registered.map((r) => r.status)).toEqual([201, 201]);
    expect((await http(sys.url, 'POST', '/register', { body: c })).status).toBe(429);
    expect((await http(sys.url, 'POST', '/login', { body: { username: a.username, password: 'not the password' } })).status).toBe(401);
    expect((await http(sys.url, 'POST', '/login', { body: { username: a.username, password: 'not the password' } })).status).toBe(429);
    expect((await http(sys.url, 'GET', `/users/${registered[0]!.body.id}`)).status).toBe(401);

    // Both confirmation emails fail (no SMTP server) and wait, unacknowledged, for their redelivery.
    const mail = await eventually(async () => {
      const text = await scrape(metricsUrl(proc('mail-service')));
      return (
        metricValue(text, 'um_mail_failures_total', { kind: 'transient' }) >= 2 && metricValue(text, 'um_mail_consumer_pending_messages', { state: 'unacknowledged' }) >= 2 && text
      );
    }, 20_000);
    const after = { ...(await scrapeAll()), 'mail-service': mail };
    const moved = (app: string, name: string, labels: Record<string, string>) => metricValue(after[app], name, labels) - metricValue(before[app], name, labels);

    // gateway: requests by route pattern and status, and its RPC calls
    const http_ = 'um_http_request_duration_seconds_count';
    expect(moved('gateway', http_, { route: '/register', status: '201' })).toBe(2);
    expect(moved('gateway', http_, { route: '/register', status: '429' })).toBe(1);
    expect(moved('gateway', http_, { route: '/login', status: '401' })).toBe(1);
    expect(moved('gateway', http_, { route: '/login', status: '429' })).toBe(1);
    expect(moved('gateway', http_, { route: '/users/:user_id', status: '401' })).toBe(1);
    expect(moved('gateway', 'um_rpc_client_duration_seconds_count', { rpc: 'users.register', outcome: 'ok' })).toBe(2);
    // users-service: RPCs answered, registrations refused by the per-address limit
    expect(moved('users-service', 'um_rpc_server_duration_seconds_count', { rpc: 'users.register', outcome: 'ok' })).toBe(2);
    expect(moved('users-service', 'um_throttle_refusals_total', { rpc: 'users.register', reason: 'users.registration_rate_limited' })).toBe(1);
    expect(after['users-service']).toMatch(/^um_relay_unpublished_events\{service="users-service"\} \d+$/m);
    expect(after['users-service']).toMatch(/^um_bcrypt_queue_length\{service="users-service"\} \d+$/m);
    // auth-service: the login throttle's refusal, and its own calls to users-service
    expect(moved('auth-service', 'um_throttle_refusals_total', { rpc: 'auth.login', reason: 'auth.throttled' })).toBe(1);
    expect(moved('auth-service', 'um_rpc_server_duration_seconds_count', { rpc: 'auth.login', outcome: 'unauthenticated' })).toBe(1);
    expect(moved('auth-service', 'um_rpc_client_duration_seconds_count', { rpc: 'users.verify_credentials' })).toBe(1);
    // mail-service: failures by kind, messages still to do, its calls to users-service
    expect(moved('mail-service', 'um_mail_failures_total', { kind: 'transient' })).toBeGreaterThanOrEqual(2);
    expect(moved('mail-service', 'um_rpc_client_duration_seconds_count', { rpc: 'users.get', outcome: 'ok' })).toBeGreaterThanOrEqual(2);

    const personal = [a, b, c].flatMap((u) => [u.username, u.email, u.fio, u.password]);
    // Ids are small integers: they would be found among the numbers; no label of ours may hold one (a bucket's `le` is no id).
    const idLabels = registered.map((r) => new RegExp(`[{,](?!le=)[a-z_]+="${r.body.id}"`));
    for (const [app, text] of Object.entries(after)) {
      for (const p of personal) expect(text, `${app} shows ${p}`).not.toContain(p);
      const ours = (text as string)
        .split('\n')
        .filter((line: string) => line.startsWith('um_'))
        .join('\n');
      for (const id of idLabels) expect(ours, `${app} labels ${id}`).not.toMatch(id);
    }
  });
});
