import { randomBytes } from 'node:crypto';
import { testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type Pool } from './db.js';
import { AppError } from './errors.js';
import { canonicalJson, IdempotencyStore } from './idempotency.js';
import { serverSecret } from './server-secret.js';

const DATABASE_URL = testInfra().databaseUrl;

// The same tables the services' migrations create.
const DDL = `
CREATE TABLE idempotency_keys (scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, reply bytea NOT NULL,
  created_at timestamptz NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE server_secrets (name text PRIMARY KEY, secret bytea, secret_sealed jsonb, created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((secret IS NULL) <> (secret_sealed IS NULL)));`;

const schema = `pi_${randomBytes(6).toString('hex')}`;
let pool: Pool;
beforeAll(async () => {
  pool = createPool(DATABASE_URL, schema);
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(DDL);
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
});

const key = () => `k-${randomBytes(6).toString('hex')}`;
const request = { username: 'alice_01', email: 'alice@example.com', password: 'correct horse battery' };

describe('IdempotencyStore', () => {
  it('answers a repeat with the outcome recorded in the write transaction', async () => {
    const store = new IdempotencyStore(randomBytes(32));
    const k = key();
    const first = store.call('users.register', null, k, request);
    expect(await store.find(pool, first)).toBeUndefined();
    await withTransaction(pool, (c) => store.record(c, first, { ok: true, data: { id: 'u1', email: 'alice@example.com' } }));
    expect(first.recorded).toBe(true);
    const repeat = store.call('users.register', null, k, { password: request.password, email: request.email, username: request.username });
    expect(await store.find(pool, repeat)).toEqual({ ok: true, data: { id: 'u1', email: 'alice@example.com' } });
  });

  it('records nothing when the write rolls back', async () => {
    const store = new IdempotencyStore(randomBytes(32));
    const call = store.call('users.register', null, key(), request);
    await expect(
      withTransaction(pool, async (c) => {
        await store.record(c, call, { ok: true, data: 1 });
        throw new Error('write failed after recording');
      }),
    ).rejects.toThrow('write failed');
    expect(await store.find(pool, call)).toBeUndefined();
  });

  it('refuses the key with another request (422), and keeps keys apart per caller and per RPC', async () => {
    const store = new IdempotencyStore(randomBytes(32));
    const k = key();
    await store.recordAfter(pool, store.call('users.update', 'actor-1', k, { fio: 'A' }), { ok: true, data: 'first' });
    const other = await store.find(pool, store.call('users.update', 'actor-1', k, { fio: 'B' })).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(AppError);
    expect(other).toMatchObject({ code: 'invalid_argument', id: 'idempotency.key_reused' });
    expect(await store.find(pool, store.call('users.update', 'actor-2', k, { fio: 'B' }))).toBeUndefined();
    expect(await store.find(pool, store.call('users.set_role', 'actor-1', k, { fio: 'B' }))).toBeUndefined();
  });

  it('makes a concurrent repeat wait for the first transaction, then refuse to act (idempotency.in_flight)', async () => {
    const store = new IdempotencyStore(randomBytes(32));
    const k = key();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let recordedFirst!: () => void;
    const firstRecorded = new Promise<void>((r) => (recordedFirst = r));
    const first = withTransaction(pool, async (c) => {
      await store.record(c, store.call('users.register', null, k, request), { ok: true, data: 'one' });
      recordedFirst();
      await held;
    });
    await firstRecorded;
    let secondDone = false;
    const second = withTransaction(pool, (c) => store.record(c, store.call('users.register', null, k, request), { ok: true, data: 'two' })).finally(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(secondDone).toBe(false);
    release();
    await first;
    await expect(second).rejects.toMatchObject({ id: 'idempotency.in_flight' });
    expect(await store.find(pool, store.call('users.register', null, k, request))).toEqual({ ok: true, data: 'one' });
  });

  it('forgets keys after the TTL: expired rows are not answered, are taken over, and are purged', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const store = new IdempotencyStore(randomBytes(32), () => now, 24 * 3600);
    const k = key();
    await store.recordAfter(pool, store.call('users.delete', 'a', k, {}), { ok: true, data: 'old' });
    now = new Date(now.getTime() + 24 * 3600 * 1000 + 1);
    expect(await store.find(pool, store.call('users.delete', 'a', k, {}))).toBeUndefined();
    await withTransaction(pool, (c) => store.record(c, store.call('users.delete', 'a', k, { other: true }), { ok: true, data: 'new' }));
    expect(await store.find(pool, store.call('users.delete', 'a', k, { other: true }))).toEqual({ ok: true, data: 'new' });
    await store.recordAfter(pool, store.call('users.delete', 'b', key(), {}), { ok: true, data: 'x' });
    now = new Date(now.getTime() + 25 * 3600 * 1000);
    expect(await store.purgeExpired(pool)).toBeGreaterThanOrEqual(2);
  });

  it('stores neither the request nor the reply readably: an HMAC and a sealed reply', async () => {
    const store = new IdempotencyStore(await serverSecret(pool, 'idempotency', {}));
    const call = store.call('auth.login', null, key(), request);
    await store.recordAfter(pool, call, { ok: true, data: { refresh_token: 'very-secret-refresh-token', email: 'alice@example.com' } });
    const { rows } = await pool.query<{ fingerprint: string; reply: Buffer }>('SELECT fingerprint, reply FROM idempotency_keys WHERE key = $1', [call.key]);
    const stored = rows[0]!.fingerprint + rows[0]!.reply.toString('latin1');
    for (const plain of ['very-secret-refresh-token', 'alice@example.com', request.password]) expect(stored).not.toContain(plain);
    // the same secret for every replica of the schema
    expect((await serverSecret(pool, 'idempotency', {})).equals(await serverSecret(pool, 'idempotency', {}))).toBe(true);
  });

  it('fingerprints requests independently of key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });
});
