import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProfile, identityKey, RegisterUser } from '@um/contracts';
import { createPool, IdempotencyStore, migrate, serverSecret, uuidv7, withTransaction, type Pool } from '@um/platform';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyUserIds, tokenSubject } from '../src/application/auth-lookups.js';
import { deleteUser } from '../src/application/delete-user.js';
import type { UsersDeps } from '../src/application/deps.js';
import { userHistory } from '../src/application/history.js';
import { verifyCredentials } from '../src/application/credentials.js';
import { getUser, listUsers } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { setRole } from '../src/application/update-user.js';
import { createPasswordPolicy } from '../src/domain/password-policy.js';
import { readAll } from '../src/event-store/event-store.js';
import { newDataKey, sealPayload } from '../src/event-store/pii-codec.js';
import { PasswordHasher } from '../src/password-hasher.js';
import { rebuildUsersProjection } from '../src/projections/users-projection.js';
import { toPublished } from '../src/relay/relay.js';
import { MIGRATIONS_DIR } from '../src/service.js';
import { as, meta, newUser, rejection, silentLog } from './setup.js';

/**
 * A database as users-service left it before integer ids (migration 1700000000006), written the way
 * that code wrote it, then migrated in place: the users keep working under ids in registration order,
 * and a rebuild reproduces them.
 */

const LAST_UUID_MIGRATION = '1700000000006';

/** Apply this service's migrations up to and including `last`, as a deployment of that version did. */
async function migrateUpTo(databaseUrl: string, schema: string, last: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'users-migrations-'));
  try {
    for (const f of readdirSync(MIGRATIONS_DIR).filter((name) => name.split('_')[0]! <= last)) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
    await migrate(databaseUrl, schema, dir, silentLog);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hasher = new PasswordHasher(4);
let pool: Pool;
let schema: string;
let deps: UsersDeps;
const revocations: Array<[number, number]> = [];

interface LegacyUser {
  stream: string;
  input: ReturnType<typeof newUser>;
  key: Buffer;
  version: number;
}

/** What the UUID-era code wrote for one event: the stream UUID as `user_id`, personal data sealed, the actor as the caller's UUID. */
async function legacyEvent(u: LegacyUser, type: string, data: Record<string, unknown>, at: Date, actor: string | null = null) {
  u.version++;
  await pool.query(`INSERT INTO events (event_id, stream_id, stream_version, type, payload, metadata, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    uuidv7(at.getTime()),
    u.stream,
    u.version,
    type,
    JSON.stringify(sealPayload({ user_id: u.stream, ...data }, u.key, u.stream)),
    JSON.stringify({ request_id: 'old', actor_id: actor }),
    at,
  ]);
}

/** A registration as the UUID-era code committed it: event, data key, projection row, credentials. */
async function legacyRegister(at: Date, role: 'user' | 'admin' = 'user'): Promise<LegacyUser> {
  const u: LegacyUser = { stream: uuidv7(at.getTime()), input: newUser(), key: newDataKey(), version: 0 };
  const { username, email, fio, birthday, tags, password } = u.input;
  await pool.query('INSERT INTO user_keys (user_id, data_key) VALUES ($1, $2)', [u.stream, u.key]);
  await legacyEvent(u, 'UserRegistered', { username, email, fio, birthday, tags, role }, at);
  await pool.query(
    `INSERT INTO users (id, username, username_key, email, email_key, config, role, email_verified, created_at, updated_at, version, username_skeleton)
     VALUES ($1, $2, $3, $4, $5, $6, $7, false, $8, $8, 1, NULL)`,
    [u.stream, username, identityKey(username), email, identityKey(email), JSON.stringify({ fio, birthday, tags }), role, at],
  );
  await pool.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [u.stream, await hasher.hash(password)]);
  return u;
}

const t = (minute: number) => new Date(Date.UTC(2024, 0, 1, 0, minute));
let admin: LegacyUser, alice: LegacyUser, gone: LegacyUser, carol: LegacyUser;

beforeAll(async () => {
  const { databaseUrl } = testInfra();
  schema = uniqueId('t_users_ids');
  await migrateUpTo(databaseUrl, schema, LAST_UUID_MIGRATION);
  pool = createPool(databaseUrl, schema);

  // Registration order: admin, alice, gone, carol; other events in between.
  admin = await legacyRegister(t(1), 'admin');
  alice = await legacyRegister(t(2));
  gone = await legacyRegister(t(3));
  await legacyEvent(alice, 'UserProfileUpdated', { fields: ['fio'], changes: { fio: { from: alice.input.fio, to: 'Alice Changed' } } }, t(4), admin.stream);
  await pool.query('UPDATE users SET config = config || \'{"fio": "Alice Changed"}\', version = 2 WHERE id = $1', [alice.stream]);
  carol = await legacyRegister(t(5));
  // A deletion as the old code did it: tombstone, key, row and credentials gone.
  await legacyEvent(gone, 'UserDeleted', {}, t(6), admin.stream);
  await pool.query('DELETE FROM user_keys WHERE user_id = $1', [gone.stream]);
  await pool.query('DELETE FROM users WHERE id = $1', [gone.stream]);
  await pool.query('DELETE FROM credentials WHERE user_id = $1', [gone.stream]);
  await pool.query('INSERT INTO email_confirmations (token_hash, user_id, email_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    Buffer.from('token-of-carol'),
    carol.stream,
    Buffer.from('hash'),
    t(600),
  ]);

  await migrate(databaseUrl, schema, MIGRATIONS_DIR, silentLog);
  deps = {
    pool,
    hasher,
    passwordPolicy: createPasswordPolicy({ denylist: false }),
    revokeTokens: async (id, below) => {
      revocations.push([id, below]);
    },
    clock: () => new Date(),
    log: silentLog,
    emailConfirmation: { ttlSeconds: 3600, resendIntervalSeconds: 60 },
    ipv6Prefix: 64,
    registrationLimit: { perWindow: 100, windowSeconds: 3600 },
    rateLimitSecret: await serverSecret(pool, 'rate_limit', {}),
    passwordReset: { ttlSeconds: 1800, accountLimit: 3, addressLimit: 5, windowSeconds: 3600 },
    emailChange: { cancelTtlSeconds: 14 * 24 * 3600, limit: 3, windowSeconds: 3600 },
    mfaTrustAfterSeconds: 7 * 24 * 3600,
    mfaIssuer: 'Test',
    idempotency: new IdempotencyStore(await serverSecret(pool, 'idempotency', {})),
    profile: buildProfile(),
    paging: { maxPageSize: 1000, exactCountLimit: 10_000 },
  };
});
afterAll(async () => {
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

/** The projection as the API shows it, ordered by id. */
const everyone = async () => (await listUsers(pool, { limit: 1000, offset: 0 }, deps.paging)).items;

describe('migrating an existing database to integer ids', () => {
  it('gives existing users ids in registration order (the deleted user keeps theirs, never given again)', async () => {
    const { rows } = await pool.query<{ id: string; stream_id: string }>('SELECT id, stream_id FROM user_ids ORDER BY id');
    expect(rows.map((r) => [Number(r.id), r.stream_id])).toEqual([
      [1, admin.stream],
      [2, alice.stream],
      [3, gone.stream],
      [4, carol.stream],
    ]);
    expect((await everyone()).map((u) => [u.id, u.username])).toEqual([
      [1, admin.input.username],
      [2, alice.input.username],
      [4, carol.input.username],
    ]);
    expect(await getUser(pool, 2)).toMatchObject({ id: 2, config: { fio: 'Alice Changed' } });
    // Side tables follow: carol's pending confirmation is hers by the integer now.
    expect((await pool.query('SELECT user_id::int AS id FROM email_confirmations')).rows).toEqual([{ id: 4 }]);
  });

  it('reads the old events with the recorded ids: history, actors, the tombstone, published events', async () => {
    const history = await userHistory(deps, 2, as(2));
    expect(history.map((e) => [e.type, e.actor_id])).toEqual([
      ['UserProfileUpdated', 1],
      ['UserRegistered', null],
    ]);
    expect(await userHistory(deps, 3, as(1))).toMatchObject([{ type: 'UserDeleted', actor_id: 1 }]);
    const events = await readAll(pool, 0n, 100);
    expect(events.filter((e) => e.event).map((e) => e.event!.data.user_id)).toEqual([1, 2, 2, 4, 3]);
    const { rows } = await pool.query(
      `SELECT e.*, e.transaction_id::text, m.id AS user_number FROM events e JOIN user_ids m ON m.stream_id = e.stream_id ORDER BY global_position`,
    );
    const published = rows.map(toPublished);
    expect(published.map((e) => e.data.user_id)).toEqual([1, 2, 3, 2, 4, 3]);
    for (const stream of [admin, alice, gone, carol].map((u) => u.stream)) expect(JSON.stringify(published)).not.toContain(stream);
  });

  it('login, token subject, role change and deletion keep working for existing users', async () => {
    expect(await verifyCredentials(deps, { username: alice.input.email, password: alice.input.password })).toMatchObject({ id: 2, username: alice.input.username });
    expect(await tokenSubject(pool, 4)).toMatchObject({ user_id: 4, role: 'user' });
    expect(await setRole(deps, 4, 'admin', as(1))).toMatchObject({ id: 4, role: 'admin' });
    const version = (await tokenSubject(pool, 4)).authz_version;
    expect(revocations).toContainEqual([4, version]);
    expect(await deleteUser(deps, 2, as(2))).toMatchObject({ id: 2 });
    expect(revocations).toContainEqual([2, Number.MAX_SAFE_INTEGER]);
    expect((await rejection(verifyCredentials(deps, { username: alice.input.username, password: alice.input.password }))).code).toBe('unauthenticated');
    expect((await rejection(getUser(pool, 2))).code).toBe('not_found');
  });

  it('tells auth-service the ids of the UUIDs it stored, and who has been deleted since', async () => {
    const unknown = uuidv7();
    const { users } = await legacyUserIds(pool, [admin.stream, gone.stream, carol.stream, unknown]);
    expect(users.sort((a, b) => a.user_id - b.user_id)).toEqual([
      { stream_id: admin.stream, user_id: 1, deleted: false },
      { stream_id: gone.stream, user_id: 3, deleted: true },
      { stream_id: carol.stream, user_id: 4, deleted: false },
    ]);
  });

  it('new registrations continue after the existing ids, and a rebuild reproduces every id', async () => {
    const dave = await registerUser(deps, RegisterUser.parse(newUser()), meta);
    expect(dave.id).toBe(5);
    const before = await everyone();
    expect(before.map((u) => u.id)).toEqual([1, 4, 5]);
    await withTransaction(pool, (c) => rebuildUsersProjection(c));
    expect(await everyone()).toEqual(before);
    // The identity was not set back by the rebuild.
    expect((await registerUser(deps, RegisterUser.parse(newUser()), meta)).id).toBe(6);
  });
});
