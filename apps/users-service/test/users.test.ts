import { RegisterUser, SearchUsersRequest } from '@um/contracts';
import { AppError, createLogger, withTransaction } from '@um/platform';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { ensureAdmin } from '../src/application/ensure-admin.js';
import { getUser, listUsers, searchUsers } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { verifyCredentials } from '../src/application/credentials.js';
import { setRole } from '../src/application/update-user.js';
import { rebuildUsersProjection } from '../src/projections/users-projection.js';
import { as, meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = (overrides: Record<string, unknown> = {}, m = meta) => registerUser(fx.deps, RegisterUser.parse(newUser(overrides)), m);

describe('registration', () => {
  it('stores the user, an event without the password, and a bcrypt hash apart', async () => {
    const input = newUser({ tags: 'x, y ,x' });
    const user = await registerUser(fx.deps, RegisterUser.parse(input), { requestId: 'req-42', actorId: null });
    expect(user).toMatchObject({
      username: input.username,
      email: input.email,
      role: 'user',
      email_verified: false,
      config: { fio: input.fio, birthday: '1990-05-17', tags: ['x', 'y'] },
    });
    expect(JSON.stringify(user)).not.toContain(input.password);

    const { rows: events } = await fx.pool.query('SELECT type, stream_version, payload, metadata FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1)', [
      user.id,
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'UserRegistered', stream_version: 1, metadata: { request_id: 'req-42' } });
    const { rows: creds } = await fx.pool.query('SELECT password_hash FROM credentials WHERE user_id = $1', [user.id]);
    expect(creds[0].password_hash).toMatch(/^\$2[aby]\$04\$/);
    const payload = JSON.stringify(events[0].payload);
    expect(payload).not.toContain(input.password);
    expect(payload).not.toContain(creds[0].password_hash);
    expect(payload).not.toMatch(/password|hash/i);
  });

  it('refuses a username or email that differs only in case', async () => {
    const first = await register({ username: 'Ёжик_' + Date.now(), email: `Case.${Date.now()}@Example.com` });
    const dupName = await rejection(register({ username: first.username.toUpperCase() }));
    expect(dupName.code).toBe('already_exists');
    expect(dupName.fields).toEqual([{ field: 'username', message: 'is already taken' }]);
    const dupEmail = await rejection(register({ email: first.email.toLowerCase() }));
    expect(dupEmail.code).toBe('already_exists');
    expect(dupEmail.fields).toEqual([{ field: 'email', message: 'is already taken' }]);
  });

  it('lets exactly one of two concurrent registrations of a username win', async () => {
    for (let round = 0; round < 5; round++) {
      const username = `racer_${round}_${Date.now()}`;
      const results = await Promise.allSettled([register({ username }), register({ username: username.toUpperCase() })]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(AppError);
      expect((lost[0]!.reason as AppError).code).toBe('already_exists');
      expect((lost[0]!.reason as AppError).fields?.[0]?.field).toBe('username');
    }
  });

  it('lets exactly one of two concurrent registrations of an email win', async () => {
    const email = `race.${Date.now()}@example.com`;
    const results = await Promise.allSettled([register({ email }), register({ email: email.toUpperCase() })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect((lost.reason as AppError).fields?.[0]?.field).toBe('email');
  });
});

describe('credentials', () => {
  it('accepts the password by username (any case) or email, and refuses the rest alike', async () => {
    const input = newUser();
    const user = await registerUser(fx.deps, RegisterUser.parse(input), meta);
    expect((await verifyCredentials(fx.deps, { username: input.username.toUpperCase(), password: input.password })).id).toBe(user.id);
    expect((await verifyCredentials(fx.deps, { username: input.email, password: input.password })).id).toBe(user.id);
    const wrong = await rejection(verifyCredentials(fx.deps, { username: input.username, password: 'wrong password' }));
    const unknown = await rejection(verifyCredentials(fx.deps, { username: 'nobody_here_at_all', password: input.password }));
    expect(wrong.toBody()).toEqual(unknown.toBody());
    expect(wrong.code).toBe('unauthenticated');
  });

  it('never matches a password longer than 72 bytes, even when its first 72 bytes match', async () => {
    const password = 'p'.repeat(72);
    const input = newUser({ password });
    await registerUser(fx.deps, RegisterUser.parse(input), meta);
    expect((await verifyCredentials(fx.deps, { username: input.username, password })).username).toBe(input.username);
    const longer = await rejection(verifyCredentials(fx.deps, { username: input.username, password: `${password}extra` }));
    expect(longer.code).toBe('unauthenticated');
  });
});

describe('search and listing', () => {
  const tag = `t${Date.now()}`;
  let ann: Awaited<ReturnType<typeof register>>;
  let bob: Awaited<ReturnType<typeof register>>;
  let cid: Awaited<ReturnType<typeof register>>;
  beforeAll(async () => {
    ann = await register({ username: `ann_${tag}`, email: `ann.${tag}@mail.test`, fio: 'Anna Karenina', birthday: '1985-03-01', tags: [tag, 'books', 'trains'] });
    bob = await register({ username: `bob_${tag}`, email: `bob.${tag}@post.test`, fio: 'Bob 100%_off', birthday: '1985-03-01', tags: [tag, 'books'] });
    cid = await register({ username: `cid_${tag}`, email: `cid.${tag}@mail.test`, fio: "O'Brien \\ back", birthday: '2000-12-31', tags: [tag] });
  });
  const search = (q: Record<string, unknown>) => searchUsers(fx.pool, SearchUsersRequest.parse({ tags: tag, ...q }), fx.deps.profile, fx.deps.paging);
  const names = async (q: Record<string, unknown>) => (await search(q)).items.map((u) => u.username).sort();

  it('filters by each field', async () => {
    expect(await names({})).toEqual([ann.username, bob.username, cid.username]);
    expect(await names({ username: `ANN_${tag}`.slice(0, 6) })).toEqual([ann.username]);
    expect(await names({ email: '@MAIL.test' })).toEqual([ann.username, cid.username]);
    expect(await names({ fio: 'karen' })).toEqual([ann.username]);
    expect(await names({ birthday: '1985-03-01' })).toEqual([ann.username, bob.username]);
    expect(await names({ tags: `${tag},books` })).toEqual([ann.username, bob.username]);
    expect(await names({ tags: `${tag},books,trains` })).toEqual([ann.username]);
  });

  it('combines filters with AND', async () => {
    expect(await names({ birthday: '1985-03-01', email: 'post' })).toEqual([bob.username]);
    expect(await names({ fio: 'o', tags: `${tag},books`, birthday: '1985-03-01' })).toEqual([bob.username]);
    expect(await names({ fio: 'anna', email: 'post' })).toEqual([]);
  });

  it('treats hostile input as literal data', async () => {
    expect(await names({ fio: '%' })).toEqual([bob.username]);
    expect(await names({ fio: '_' })).toEqual([bob.username]);
    expect(await names({ fio: '%_' })).toEqual([bob.username]);
    expect(await names({ fio: '\\' })).toEqual([cid.username]);
    expect(await names({ fio: "O'Brien" })).toEqual([cid.username]);
    expect(await names({ username: "'; DROP TABLE users; --" })).toEqual([]);
    expect(await names({ tags: `${tag},"]}` })).toEqual([]);
    const { rows } = await fx.pool.query('SELECT count(*)::int AS n FROM users');
    expect(rows[0].n).toBeGreaterThanOrEqual(3);
  });

  it('pages in id order with a total', async () => {
    const page1 = await search({ limit: 2, offset: 0 });
    const page2 = await search({ limit: 2, offset: 2 });
    expect(page1.total).toBe(3);
    expect(page1.items.map((u) => u.id)).toEqual([ann.id, bob.id]);
    expect(page2.items.map((u) => u.id)).toEqual([cid.id]);
    const all = await listUsers(fx.pool, { limit: 1000, offset: 0 }, fx.deps.paging);
    const ids = all.items.map((u) => u.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all.total).toBeGreaterThanOrEqual(3);
  });
});

describe('deletion', () => {
  it('removes the user, its credentials, revokes its tokens and keeps the history', async () => {
    const input = newUser();
    const user = await registerUser(fx.deps, RegisterUser.parse(input), meta);
    const deleted = await deleteUser(fx.deps, user.id, { requestId: 'del-1', actorId: String(user.id) });
    expect(deleted).toEqual(user);
    expect(fx.revoked).toContain(user.id);
    expect((await rejection(getUser(fx.pool, user.id))).code).toBe('not_found');
    expect((await rejection(verifyCredentials(fx.deps, { username: input.username, password: input.password }))).code).toBe('unauthenticated');
    const { rows } = await fx.pool.query('SELECT type, metadata FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1) ORDER BY stream_version', [user.id]);
    expect(rows.map((r) => r.type)).toEqual(['UserRegistered', 'UserDeleted']);
    expect(rows[1].metadata).toMatchObject({ request_id: 'del-1', actor_id: String(user.id) });
    expect((await rejection(deleteUser(fx.deps, user.id, meta))).code).toBe('not_found');
    // The username is free again once its owner is gone.
    await registerUser(fx.deps, RegisterUser.parse({ ...newUser(), username: input.username }), meta);
  });

  it('answers exactly one of two concurrent deletes', async () => {
    const user = await register();
    const results = await Promise.allSettled([deleteUser(fx.deps, user.id, meta), deleteUser(fx.deps, user.id, meta)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect((lost.reason as AppError).code).toBe('not_found');
  });

  it('deletes even when the fast revocation fails: the relay revokes when it publishes the tombstone', async () => {
    const user = await register();
    const failing = { ...fx.deps, revokeTokens: async () => Promise.reject(new Error('NATS down')) };
    await deleteUser(failing, user.id, meta);
    expect((await rejection(getUser(fx.pool, user.id))).code).toBe('not_found');
  });
});

describe('event store', () => {
  it('is append-only', async () => {
    await register();
    await expect(fx.pool.query("UPDATE events SET type = 'X'")).rejects.toThrow(/append-only/);
    await expect(fx.pool.query('DELETE FROM events')).rejects.toThrow(/append-only/);
  });
});

describe('bootstrap admin', () => {
  // Each test gets a database of its own: the bootstrap only acts when no admin exists at all.
  let own: Awaited<ReturnType<typeof usersFixture>>;
  beforeEach(async () => {
    own = await usersFixture();
  });
  afterEach(() => own?.close());
  const configured = () => ({ username: `admin_${Date.now()}`, email: `admin.${Date.now()}@example.com`, password: 'admin password' });

  it('is created once when no admin exists, even by replicas starting together', async () => {
    const admin = configured();
    const outcomes = await Promise.all([ensureAdmin(own.deps, admin), ensureAdmin(own.deps, admin), ensureAdmin(own.deps, admin)]);
    expect(outcomes.sort()).toEqual(['admin_exists', 'admin_exists', 'created']);
    expect(await ensureAdmin(own.deps, admin)).toBe('admin_exists');
    const { rows } = await own.pool.query('SELECT role FROM users WHERE username = $1', [admin.username]);
    expect(rows).toEqual([{ role: 'admin' }]);
    expect((await verifyCredentials(own.deps, admin)).role).toBe('admin');
  });

  it('never promotes an existing account holding the name or the email, and never sets its password', async () => {
    const admin = configured();
    const stranger = await registerUser(own.deps, RegisterUser.parse(newUser({ username: admin.username, email: admin.email, password: 'stranger pass' })), meta);
    expect(await ensureAdmin(own.deps, admin)).toBe('name_taken');
    expect((await getUser(own.pool, stranger.id)).role).toBe('user');
    expect((await rejection(verifyCredentials(own.deps, admin))).code).toBe('unauthenticated');
    expect((await verifyCredentials(own.deps, { username: admin.username, password: 'stranger pass' })).role).toBe('user');
    const { rows } = await own.pool.query("SELECT count(*)::int AS n FROM users WHERE role = 'admin'");
    expect(rows[0].n).toBe(0);
  });

  it('starts with a warning naming no one when another account holds a look-alike of the name (no crash at start)', async () => {
    const stamp = Date.now();
    const admin = { username: `admin_${stamp}`, email: `admin.${stamp}@example.com`, password: 'admin password' };
    const stranger = await registerUser(own.deps, RegisterUser.parse(newUser({ username: `adrnin_${stamp}` })), meta);
    const lines: string[] = [];
    const log = createLogger('users-service', 'info', { hooks: { streamWrite: (line: string) => (lines.push(line), '') } });
    expect(await ensureAdmin({ ...own.deps, log }, admin)).toBe('name_taken');
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.level === 40);
    expect(warning).toMatchObject({ taken: ['lookalike'], msg: expect.stringMatching(/look-alike/) });
    for (const personal of [admin.username, admin.email, stranger.username, stranger.email, String(stamp)]) expect(lines.join('\n')).not.toContain(personal);
    expect((await getUser(own.pool, stranger.id)).role).toBe('user');
    const { rows } = await own.pool.query("SELECT count(*)::int AS n FROM users WHERE role = 'admin'");
    expect(rows[0].n).toBe(0);
  });

  it('does nothing once any admin exists, even if the configured account was deleted and its name taken since', async () => {
    const admin = configured();
    expect(await ensureAdmin(own.deps, admin)).toBe('created');
    const first = (await verifyCredentials(own.deps, admin)).id;
    const second = await registerUser(own.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, as(first));
    await deleteUser(own.deps, first, as(second.id));
    const stranger = await registerUser(own.deps, RegisterUser.parse(newUser({ username: admin.username, email: admin.email, password: 'stranger pass' })), meta);
    expect(await ensureAdmin(own.deps, admin)).toBe('admin_exists');
    expect((await getUser(own.pool, stranger.id)).role).toBe('user');
  });
});

describe('projection rebuild', () => {
  it('rebuilds a users table equal to the live one', async () => {
    const extra = await register({ tags: ['rebuild'] });
    await deleteUser(fx.deps, (await register()).id, meta);
    await setRole(fx.deps, extra.id, 'admin', meta);
    const snapshot = async () => (await fx.pool.query('SELECT * FROM users ORDER BY id')).rows;
    const live = await snapshot();
    expect(live.length).toBeGreaterThan(3);
    const replayed = await withTransaction(fx.pool, (c) => rebuildUsersProjection(c, { batchSize: 7 }));
    expect(replayed).toBeGreaterThan(live.length);
    expect(await snapshot()).toEqual(live);
  });
});
