import { createHash } from 'node:crypto';
import { readFile, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { streamName, Streams, usersEventSubject } from '@um/contracts';
import { eventually } from '@um/testkit';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin, runAdminAtTerminal } from './admin-cli.js';
import { http, newUser, System } from './harness.js';
import { safeStep, totp } from './totp.js';

let sys: System;
let db: pg.Client;
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  sys = await System.start();
  db = new pg.Client({ connectionString: sys.env.DATABASE_URL });
  await db.connect();
  nc = await connect({ servers: sys.env.NATS_URL! });
  dir = await mkdtemp(join(tmpdir(), 'admin-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await nc?.close();
  await db?.end();
  await sys?.stop();
});

const login = (username: string, password: string) => http(sys.url, 'POST', '/login', { body: { username, password } });

/** A user registered and logged in through the API, with a profile change and TOTP enabled: every kind of data held. */
async function fullUser() {
  const input = newUser({ tags: ['chess', 'books'] });
  const registered = await http(sys.url, 'POST', '/register', { body: input });
  expect(registered.status).toBe(201);
  const session = await login(input.username, input.password);
  expect(session.status).toBe(200);
  const token = session.body.access_token as string;
  expect((await http(sys.url, 'PATCH', '/users/me', { token, body: { fio: `${input.fio} Jr` } })).status).toBe(200);
  const start = await http(sys.url, 'POST', '/users/me/mfa/totp', { token });
  expect(start.status).toBe(200);
  const confirm = await http(sys.url, 'POST', '/users/me/mfa/totp/confirm', { token, body: { code: totp(start.body.secret, await safeStep()) } });
  expect(confirm.status).toBe(200);
  return {
    input,
    id: registered.body.id as string,
    token,
    refreshToken: session.body.refresh_token as string,
    sessionId: decodeJwt(token).sid as string,
    totpSecret: start.body.secret as string,
    recoveryCodes: confirm.body.recovery_codes as string[],
  };
}

/** Tables of the system's schemas whose rows mention `needle`. */
async function tablesMentioning(needle: string): Promise<string[]> {
  const schemas = [sys.env.USERS_DB_SCHEMA!, sys.env.AUTH_DB_SCHEMA!];
  const { rows: tables } = await db.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ANY($1)`,
    [schemas],
  );
  const hits: string[] = [];
  for (const { s, t } of tables) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${s}"."${t}" x WHERE x::text ILIKE $1`, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(`${s}.${t}`);
  }
  return hits;
}

describe('admin create-admin', () => {
  it('creates an admin from a password on stdin who logs in through the API as an admin', async () => {
    const input = newUser();
    const run = await runAdmin(['create-admin', '--username', input.username, '--email', input.email, '--fio', input.fio, '--tags', 'ops,oncall'], sys.env, `${input.password}\n`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout);
    expect(created).toMatchObject({ username: input.username, email: input.email, role: 'admin', config: { fio: input.fio, birthday: '1970-01-01', tags: ['ops', 'oncall'] } });
    const session = await login(input.username, input.password);
    expect(session.status).toBe(200);
    expect(decodeJwt(session.body.access_token)).toMatchObject({ sub: String(created.id), role: 'admin' });
    // an admin's privilege, checked by the services against their own data
    expect((await http(sys.url, 'GET', '/users', { token: session.body.access_token })).status).toBe(200);
    expect(run.stdout).not.toContain(input.password);
  });

  it('reads the password at a terminal without echoing it, asking twice', async () => {
    const input = newUser();
    const { code, screen } = await runAdminAtTerminal(['create-admin', '--username', input.username, '--email', input.email], sys.env, [
      { after: /Password:/, type: `${input.password}\r` },
      { after: /Repeat password:/, type: `${input.password}\r` },
    ]);
    expect(screen).toMatch(/Password:/);
    expect(screen).toMatch(/Repeat password:/);
    expect(screen).not.toContain(input.password);
    expect(code).toBe(0);
    expect((await login(input.username, input.password)).status).toBe(200);
  });

  it('refuses what registration refuses, with the rule named, exit code 2 or 3, and creates nobody', async () => {
    const input = newUser();
    const args = ['create-admin', '--username', input.username, '--email', input.email];
    const common = await runAdmin(args, sys.env, 'password123\n');
    expect(common.code).toBe(2);
    expect(common.stderr).toMatch(/password: .*common/i);
    const withName = await runAdmin(args, sys.env, `${input.username}-x\n`);
    expect(withName.code).toBe(2);
    expect(withName.stderr).toMatch(/password: .*username/i);
    const noPassword = await runAdmin(args, sys.env, '');
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/no password on standard input/);
    const badEmail = await runAdmin(['create-admin', '--username', input.username, '--email', 'not-an-email'], sys.env, `${input.password}\n`);
    expect(badEmail.code).toBe(2);
    expect(badEmail.stderr).toMatch(/email: /);
    const missing = await runAdmin(['create-admin', '--username', input.username], sys.env, `${input.password}\n`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/email: is required/);
    expect((await login(input.username, input.password)).status).toBe(401);
    for (const run of [common, withName]) expect(run.stderr).not.toMatch(/password123|-x/);

    const taken = newUser();
    expect((await http(sys.url, 'POST', '/register', { body: taken })).status).toBe(201);
    const dup = await runAdmin(['create-admin', '--username', taken.username.toUpperCase(), '--email', input.email], sys.env, `${input.password}\n`);
    expect(dup.code).toBe(3);
    expect(dup.stderr).toMatch(/username: is already taken/);
  });
});

describe('admin export-user', () => {
  it('exports everything held about the user, decrypted, and no secret', async () => {
    const u = await fullUser();
    const run = await runAdmin(['export-user', u.id], sys.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.user_id).toBe(u.id);
    const users = doc.users_service;
    expect(users.user).toMatchObject({ id: u.id, username: u.input.username, email: u.input.email, config: { fio: `${u.input.fio} Jr`, tags: ['chess', 'books'] } });
    expect(users.events.map((e: { type: string }) => e.type)).toEqual(['UserRegistered', 'UserProfileUpdated', 'MfaEnabled']);
    // the events' personal data, decrypted with the user's key (stored sealed)
    expect(users.events[0].data).toMatchObject({ username: u.input.username, email: u.input.email, fio: u.input.fio, birthday: u.input.birthday });
    expect(users.events[1].data.changes.fio).toEqual({ from: u.input.fio, to: `${u.input.fio} Jr` });
    expect(users.mfa).toMatchObject({ enabled: true, recovery_codes_unused: 10 });
    expect(users.password.set).toBe(true);
    expect(doc.auth_service.sessions).toEqual([expect.objectContaining({ id: u.sessionId, active: true, revoked_at: null })]);

    const { rows } = await db.query<{ password_hash: string }>(`SELECT password_hash FROM "${sys.env.USERS_DB_SCHEMA}".credentials WHERE user_id = $1`, [u.id]);
    const refreshHash = createHash('sha256').update(u.refreshToken).digest();
    const secrets = [
      u.input.password,
      rows[0]!.password_hash,
      u.token,
      u.refreshToken,
      refreshHash.toString('hex'),
      refreshHash.toString('base64'),
      u.totpSecret,
      ...u.recoveryCodes,
    ];
    for (const secret of secrets) expect(run.stdout).not.toContain(secret);
    const keys = [...run.stdout.matchAll(/"([^"]+)":/g)].map((m) => m[1]!);
    expect(keys.filter((k) => /hash|secret|token|private|data_key|pii/i.test(k))).toEqual([]);
  });

  it('writes to a new file readable by its owner only, never over an existing one', async () => {
    const u = await fullUser();
    const file = join(dir, `${u.id}.json`);
    const run = await runAdmin(['export-user', u.id, '--output', file], sys.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).users_service.user.email).toBe(u.input.email);
    const again = await runAdmin(['export-user', u.id, '-o', file], sys.env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
  });

  it('answers unknown and malformed ids with clear errors and exit codes 3 and 2', async () => {
    const unknown = await runAdmin(['export-user', '999999999'], sys.env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/User not found/);
    const malformed = await runAdmin(['export-user', 'bob'], sys.env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/"bob" is not a user id/);
    expect((await runAdmin(['export-user'], sys.env)).stderr).toMatch(/a user id is required/);
  });
});

describe('admin erase-user', () => {
  it("erases the user as the API does: no personal data left anywhere, tokens refused, the tombstone published, auth-service's rows gone", async () => {
    const u = await fullUser();
    const { id, input, token } = u;
    expect(await tablesMentioning(input.email)).not.toEqual([]);
    expect((await runAdmin(['erase-user', id], sys.env)).code).toBe(2); // no --yes
    const run = await runAdmin(['erase-user', id, '--yes'], sys.env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ user_id: id, status: 'erased' });

    expect((await http(sys.url, 'GET', '/users/me', { token })).status).toBe(401);
    expect((await login(input.username, input.password)).status).toBe(401);
    for (const needle of [input.email, input.username, input.fio]) expect(await tablesMentioning(needle), needle).toEqual([]);

    // published like an API deletion: the relay sends the tombstone, auth-service's consumer erases its rows
    const jsm = await jetstreamManager(nc);
    const stream = streamName(sys.namespace, Streams.usersEvents);
    const tombstone = await eventually(async () => {
      const msg = await jsm.streams.getMessage(stream, { last_by_subj: usersEventSubject(sys.namespace, 'UserDeleted') });
      return msg?.json<{ data: { user_id: string } }>().data.user_id === id ? msg : undefined;
    }, 10_000);
    expect(tombstone.string()).not.toContain(input.email);
    await eventually(async () => {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${sys.env.AUTH_DB_SCHEMA}".sessions WHERE user_id = $1`, [id]);
      return rows[0]!.n === 0;
    }, 10_000);

    const exported = await runAdmin(['export-user', id], sys.env);
    expect(exported.code).toBe(0);
    const doc = JSON.parse(exported.stdout);
    expect(doc.users_service.user).toBeNull();
    const events = doc.users_service.events as Array<{ type: string; data: unknown }>;
    expect(events.map((e) => e.type)).toEqual(['UserRegistered', 'UserProfileUpdated', 'MfaEnabled', 'UserDeleted']);
    expect(events.filter((e) => e.data === null).map((e) => e.type)).toEqual(['UserRegistered', 'UserProfileUpdated']);
    for (const needle of [input.email, input.username, input.fio]) expect(exported.stdout).not.toContain(needle);

    const twice = await runAdmin(['erase-user', id, '--yes'], sys.env);
    expect(twice.code).toBe(3);
    expect(twice.stderr).toMatch(/not found/i);
  });
});
