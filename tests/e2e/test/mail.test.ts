import { streamName, Streams } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { eventually, testInfra } from '@um/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { SmtpSink } from './smtp.js';

let smtp: SmtpSink;
let smtpUrl: string;
const systems: System[] = [];

beforeAll(async () => {
  smtp = new SmtpSink();
  smtpUrl = await smtp.start();
});
afterEach(() => {
  smtp.refuse = false;
});
afterAll(async () => {
  await Promise.all(systems.map((s) => s.stop()));
  await smtp.stop();
});

async function start(opts: { mail?: number; env?: Record<string, string> } = {}) {
  const sys = await System.start({
    mail: opts.mail ?? 1,
    env: { SMTP_URL: smtpUrl, RELAY_POLL_MS: '200', MAIL_RETRY_BASE_MS: '100', MAIL_RETRY_MAX_MS: '400', PUBLIC_URL: 'http://public.example', ...opts.env },
  });
  systems.push(sys);
  return sys;
}

async function registerMany(sys: System, n: number) {
  const users = [];
  for (let i = 0; i < n; i++) {
    const input = newUser();
    const res = await http(sys.url, 'POST', '/register', { body: input });
    expect(res.status).toBe(201);
    users.push({ ...input, id: res.body.id as string });
  }
  return users;
}

/** Each user got exactly one email, to the right address, and no more arrive. */
async function expectOneEmailEach(users: Array<{ email: string }>, timeoutMs = 20_000) {
  await eventually(async () => users.every((u) => smtp.to(u.email).length >= 1), timeoutMs);
  await new Promise((r) => setTimeout(r, 700));
  for (const u of users) expect(smtp.to(u.email), u.email).toHaveLength(1);
}

async function sqlRows<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: testInfra().databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('confirmation emails', () => {
  it('sends exactly one email per registration whose link confirms the address', async () => {
    const sys = await start();
    const users = await registerMany(sys, 4);
    await expectOneEmailEach(users);
    const mail = smtp.to(users[0]!.email)[0]!;
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.link).toMatch(/^http:\/\/public\.example\/confirm-email\?token=/);

    const path = mail.link!.replace('http://public.example', '');
    const confirmed = await http(sys.url, 'GET', path);
    expect(confirmed.status).toBe(200);
    // only the outcome: a forwarded link tells its reader nothing about the account
    expect(confirmed.body).toEqual({ status: 'confirmed' });
    const login = await http(sys.url, 'POST', '/login', { body: { username: users[0]!.username, password: users[0]!.password } });
    expect((await http(sys.url, 'GET', '/users/me', { token: login.body.access_token })).body).toMatchObject({ id: users[0]!.id, email_verified: true });
    const reused = await http(sys.url, 'GET', path);
    const unknown = await http(sys.url, 'GET', '/confirm-email?token=made-up-token');
    expect(reused.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(reused.body.detail).toBe(unknown.body.detail);
    expect((await http(sys.url, 'GET', '/confirm-email')).status).toBe(422);
  });

  it('resends a fresh link on request, rate-limited with Retry-After', async () => {
    const sys = await start({ env: { EMAIL_RESEND_INTERVAL: '3s' } });
    const [user] = await registerMany(sys, 1);
    await expectOneEmailEach([user!]);
    const login = await http(sys.url, 'POST', '/login', { body: { username: user!.username, password: user!.password } });
    const token = login.body.access_token as string;
    expect((await http(sys.url, 'POST', '/confirm-email/resend')).status).toBe(401);

    const limited = await http(sys.url, 'POST', '/confirm-email/resend', { token });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    const accepted = await http(sys.url, 'POST', '/confirm-email/resend', { token });
    expect(accepted.status).toBe(202);
    await eventually(async () => smtp.to(user!.email).length === 2, 10_000);
    const [first, second] = smtp.to(user!.email);
    expect(second!.link).not.toBe(first!.link);
    expect((await http(sys.url, 'GET', second!.link!.replace('http://public.example', ''))).status).toBe(200);
    expect((await http(sys.url, 'POST', '/confirm-email/resend', { token })).status).toBe(409);
  });

  it('sends every email when mail-service was down during the registrations', async () => {
    const sys = await start({ mail: 0 });
    const users = await registerMany(sys, 5);
    await new Promise((r) => setTimeout(r, 500));
    expect(users.every((u) => smtp.to(u.email).length === 0)).toBe(true);
    const mail = await sys.spawn('mail-service');
    await mail.ready();
    await expectOneEmailEach(users);
  });

  it('retries while the SMTP server refuses, then delivers each email once', async () => {
    const sys = await start();
    smtp.refuse = true;
    const users = await registerMany(sys, 3);
    await eventually(async () => smtp.refusals >= 6, 10_000);
    expect(users.every((u) => smtp.to(u.email).length === 0)).toBe(true);
    smtp.refuse = false;
    await expectOneEmailEach(users);
  });

  it('publishes each event exactly once although users-service was killed while relaying', async () => {
    const sys = await start({ mail: 0 });
    const burst = registerMany(sys, 30).catch(() => undefined);
    // Kill it mid-burst: once some events are stored (a fixed delay is too short on a busy machine).
    await eventually(async () => (await sqlRows(`SELECT 1 FROM "${sys.env.USERS_DB_SCHEMA}".events LIMIT 3`)).length >= 3, 15_000, 10);
    const victim = sys.procs.find((p) => p.app === 'users-service')!;
    await victim.kill();
    await burst;
    const restarted = await sys.spawn('users-service', {}, 'users-restarted');
    await restarted.ready();

    const stream = streamName(sys.namespace, Streams.usersEvents);
    const ids = async () =>
      (await sqlRows<{ event_id: string }>(`SELECT event_id FROM "${sys.env.USERS_DB_SCHEMA}".events ORDER BY transaction_id, global_position`)).map((r) => r.event_id);
    const nc = await connect({ servers: testInfra().natsUrl });
    const jsm = await jetstreamManager(nc);
    const published = async () => {
      const info = await jsm.streams.info(stream);
      const out: string[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        // A missing message (null) is caught below: the list must equal the event table.
        const m = await jsm.streams.getMessage(stream, { seq });
        if (m) out.push(m.json<{ event_id: string }>().event_id);
      }
      return out;
    };
    try {
      const expected = await ids();
      expect(expected.length).toBeGreaterThan(0);
      await eventually(async () => (await published()).length >= expected.length, 15_000);
      const got = await published();
      expect(got.length).toBe(expected.length);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...expected].sort());
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
  });

  it('erases a deleted user from every table of every schema, mail-service included', async () => {
    const sys = await start();
    const [user] = await registerMany(sys, 1);
    await expectOneEmailEach([user!]);
    const login = await http(sys.url, 'POST', '/login', { body: { username: user!.username, password: user!.password } });
    expect((await http(sys.url, 'POST', `/user_delete/${user!.id}`, { token: login.body.access_token })).status).toBe(200);
    const tables = await sqlRows<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const needle of [user!.email, user!.username, user!.fio]) {
      for (const { s, t } of tables) {
        const rows = await sqlRows(`SELECT count(*)::int AS n FROM "${s}"."${t}" x WHERE x::text ILIKE $1`, [`%${needle}%`]).catch((e) => {
          if (['42P01', '3F000'].includes(e.code)) return [{ n: 0 }];
          throw e;
        });
        expect(rows[0].n, `${needle} found in ${s}.${t}`).toBe(0);
      }
    }
  });
});
