import { testInfra, uniqueId, eventually } from '@um/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RelayLock, type RelayLockOptions } from '../src/relay/relay-lock.js';

let admin: pg.Client;
const made: RelayLock[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: testInfra().databaseUrl });
  await admin.connect();
});
afterEach(async () => {
  await Promise.all(made.splice(0).map((l) => l.release()));
});
afterAll(async () => {
  await admin?.end();
});

function lock(name: string, o: Partial<RelayLockOptions> = {}): RelayLock {
  const l = new RelayLock({ databaseUrl: testInfra().databaseUrl, name, applicationName: `lock-test:${name}`, ...o });
  made.push(l);
  return l;
}

/** Backends holding an advisory lock, by application name. */
async function holders(name: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
    [`lock-test:${name}`],
  );
  return rows.map((r) => r.pid);
}

describe('the relay lock', () => {
  it('is held by one instance at a time, and taken by another once released', async () => {
    const name = uniqueId('relay');
    const [a, b] = [lock(name), lock(name)];
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect([a.isHeld, b.isHeld]).toEqual([true, false]);
    expect(a.connection).toBeDefined();
    expect(b.connection).toBeUndefined();
    // Trying again while holding keeps holding; trying again while another holds still fails.
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);

    await a.release();
    expect(a.isHeld).toBe(false);
    expect(a.connection).toBeUndefined();
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
  });

  it('locks by name: two names are held at once', async () => {
    const [a, b] = [lock(uniqueId('relay')), lock(uniqueId('relay'))];
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(true);
  });

  it('notices when its connection dies: lost once, no longer held, and another instance takes it', async () => {
    const name = uniqueId('relay');
    let lost = 0;
    const [a, b] = [lock(name, { onLost: () => void lost++ }), lock(name)];
    expect(await a.tryAcquire()).toBe(true);
    const pids = await holders(name);
    expect(pids).toHaveLength(1);
    await admin.query('SELECT pg_terminate_backend($1)', [pids[0]]);
    await eventually(async () => lost === 1, 5000);
    expect(a.isHeld).toBe(false);
    expect(a.connection).toBeUndefined();
    expect(await b.tryAcquire()).toBe(true);
    // A new connection, a fresh try: the lock is b's now.
    expect(await a.tryAcquire()).toBe(false);
    expect(lost).toBe(1);
  });

  it('says nothing is lost when it lets go itself, or when the connection of a try that failed dies', async () => {
    const name = uniqueId('relay');
    let lost = 0;
    const [a, b] = [lock(name, { onLost: () => void lost++ }), lock(name, { onLost: () => void lost++ })];
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> ALL($2)`, [`lock-test:${name}`, await holders(name)]);
    await a.release();
    await new Promise((r) => setTimeout(r, 200));
    expect(lost).toBe(0);
    // b's dead connection is replaced on its next try.
    expect(await b.tryAcquire()).toBe(true);
  });

  it('tells its holder of notifications on its connection', async () => {
    const name = uniqueId('relay');
    let notified = 0;
    const a = lock(name, { onNotification: () => void notified++ });
    expect(await a.tryAcquire()).toBe(true);
    await a.connection!.query(`LISTEN "${name}"`);
    await admin.query(`NOTIFY "${name}"`);
    await eventually(async () => notified === 1, 5000);
  });
});
