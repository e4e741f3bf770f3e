import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Buckets, bucketName, MAX_ACCESS_TOKEN_TTL_SECONDS, revocationKey } from '@um/contracts';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { ALL_VERSIONS, openRevocations, RevocationCache, revokeSessionTokens, revokeUserTokens } from './revocations.js';

/** A user id of its own for each test (ids are positive integers). */
const newUserId = () => randomInt(1, 2 ** 47);

const NATS_URL = testInfra().natsUrl;

const silent = createLogger('platform-revocations-test', 'silent');
const freshNamespace = () => `t${randomBytes(6).toString('hex')}`;

let nc: NatsConnection;
/** Every bucket a test opened, destroyed at the end. */
const buckets: KV[] = [];
/** Every cache a test started, stopped at the end. */
const stops: Array<() => void> = [];

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL, name: 'platform-revocations-test' });
});

afterAll(async () => {
  for (const stop of stops) stop();
  for (const kv of buckets) await kv.destroy().catch(() => undefined);
  await nc?.close();
});

async function bucket(namespace = freshNamespace()): Promise<KV> {
  const kv = await openRevocations(nc, namespace, 1);
  buckets.push(kv);
  return kv;
}

async function startCache(kv: KV) {
  const started = await RevocationCache.start(kv, silent);
  stops.push(started.stop);
  return started;
}

/** Poll `check` until it holds or `ms` pass; the time it took, or a failure. */
async function within(ms: number, check: () => boolean): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Seconds since the epoch, as an access token's (fractional) iat carries it. */
const seconds = (ms: number) => ms / 1000;

describe('openRevocations', () => {
  it('creates the namespaced bucket, keeping one value per key for as long as a token can live', async () => {
    const namespace = freshNamespace();
    const kv = await bucket(namespace);
    const status = await kv.status();
    expect(status.bucket).toBe(bucketName(namespace, Buckets.revocations));
    expect(status.history).toBe(1);
    expect(status.ttl).toBeGreaterThanOrEqual(MAX_ACCESS_TOKEN_TTL_SECONDS * 1000);
  });

  it('opens an existing bucket again without losing its entries', async () => {
    const namespace = freshNamespace();
    const kv = await bucket(namespace);
    const sid = randomUUID();
    await revokeSessionTokens(kv, sid);
    const again = await openRevocations(nc, namespace, 1);
    expect((await again.get(revocationKey.session(sid)))?.json()).toMatchObject({ revoked_at: expect.any(Number) });
  });
});

describe('RevocationCache', () => {
  it('starts at once on an empty bucket and revokes nothing', async () => {
    const kv = await bucket();
    const t0 = Date.now();
    const { cache } = await startCache(kv);
    // the start-up wait has a 5 s fallback; an empty bucket must not wait for it
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(cache.isRevoked(newUserId(), seconds(Date.now()), randomUUID())).toBe(false);
  });

  it('sees a session revocation within a second, for that session only', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    const sid = randomUUID();
    const otherSid = randomUUID();
    const iat = seconds(Date.now() + 60_000); // even a token issued after the revocation: the whole session is dead
    expect(cache.isRevoked(user, iat, sid)).toBe(false);

    await revokeSessionTokens(kv, sid);
    const took = await within(1_000, () => cache.isRevoked(user, iat, sid));
    expect(took).toBeLessThan(1_000);

    expect(cache.isRevoked(user, iat, otherSid)).toBe(false);
    // a session revocation is not a user revocation: without the sid (or with another) the user's tokens stand
    expect(cache.isRevoked(user, iat)).toBe(false);
    expect(cache.isRevoked(user, seconds(Date.now() - 60_000), otherSid)).toBe(false);
    // the session is revoked whoever presents it
    expect(cache.isRevoked(newUserId(), iat, sid)).toBe(true);
  });

  it('stores the session revocation as {revoked_at} under session.<id>', async () => {
    const kv = await bucket();
    const sid = randomUUID();
    const at = Date.now() - 1234;
    await revokeSessionTokens(kv, sid, at);
    expect((await kv.get(revocationKey.session(sid)))?.json()).toEqual({ revoked_at: at });
  });

  it('refuses tokens of a user below the revoked version, whenever they were signed, and no others', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    const other = newUserId();
    const sid = randomUUID();
    const now = seconds(Date.now());

    await revokeUserTokens(kv, user, 7);
    expect((await kv.get(revocationKey.user(user)))?.json()).toEqual({ below_version: 7 });
    await within(1_000, () => cache.isRevoked(user, now, sid, 6));

    // below version 7: refused even when signed after the revocation (a racing refresh)
    expect(cache.isRevoked(user, now + 60, undefined, 6)).toBe(true);
    expect(cache.isRevoked(user, now - 3_600, randomUUID(), 1)).toBe(true);
    expect(cache.isRevoked(user, now)).toBe(true); // a token without a version counts as 0
    // at or above it: a token read after the change stands
    expect(cache.isRevoked(user, now - 3_600, sid, 7)).toBe(false);
    expect(cache.isRevoked(user, now, sid, 8)).toBe(false);
    // other users are untouched
    expect(cache.isRevoked(other, now, undefined, 0)).toBe(false);
  });

  it('only ever raises the version: a late, lower write (a replayed event) does not lift a newer revocation', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    await revokeUserTokens(kv, user, 5);
    await within(1_000, () => cache.isRevoked(user, 0, undefined, 4));
    expect(cache.isRevoked(user, 0, undefined, 5)).toBe(false);

    await revokeUserTokens(kv, user, 9);
    await revokeUserTokens(kv, user, 5);
    await Promise.all([revokeUserTokens(kv, user, 6), revokeUserTokens(kv, user, 8), revokeUserTokens(kv, user, 3)]);
    expect((await kv.get(revocationKey.user(user)))?.json()).toEqual({ below_version: 9 });
    await within(1_000, () => cache.isRevoked(user, 0, undefined, 8));
    expect(cache.isRevoked(user, 0, undefined, 9)).toBe(false);
  });

  it('still honours the older instant form {revoked_before}', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    const at = Date.now() - 5_000;
    await kv.put(revocationKey.user(user), JSON.stringify({ revoked_before: at }));
    await within(1_000, () => cache.isRevoked(user, seconds(at - 1)));
    expect(cache.isRevoked(user, seconds(at) - 0.0005, undefined, 3)).toBe(true);
    expect(cache.isRevoked(user, seconds(at + 1))).toBe(false);
  });

  it('a cache started after the entries were written sees them as soon as start resolves (restart)', async () => {
    const kv = await bucket();
    const revokedUser = newUserId();
    const sids = Array.from({ length: 20 }, () => randomUUID());
    for (const sid of sids) await revokeSessionTokens(kv, sid);
    await revokeUserTokens(kv, revokedUser, 4);

    const t0 = Date.now();
    const { cache } = await startCache(kv);
    // no polling: the start resolves only once the stored entries are loaded, and not by the 5 s fallback
    expect(Date.now() - t0).toBeLessThan(2_500);
    for (const sid of sids) expect(cache.isRevoked(newUserId(), seconds(Date.now()), sid)).toBe(true);
    expect(cache.isRevoked(revokedUser, seconds(Date.now()), undefined, 3)).toBe(true);
    expect(cache.isRevoked(revokedUser, seconds(Date.now()), undefined, 4)).toBe(false);
    expect(cache.isRevoked(newUserId(), seconds(Date.now()), randomUUID())).toBe(false);
  });

  it('two caches on one bucket (two gateway replicas) both see a revocation', async () => {
    const kv = await bucket();
    const a = await startCache(kv);
    const b = await startCache(kv);
    const sid = randomUUID();
    await revokeSessionTokens(kv, sid);
    await within(1_000, () => a.cache.isRevoked(newUserId(), 0, sid) && b.cache.isRevoked(newUserId(), 0, sid));
  });

  it('lifts a revocation whose entry is deleted', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    const sid = randomUUID();
    await revokeSessionTokens(kv, sid);
    await revokeUserTokens(kv, user, 2);
    await within(1_000, () => cache.isRevoked(newUserId(), 0, sid) && cache.isRevoked(user, 0, undefined, 1));

    await kv.delete(revocationKey.session(sid));
    await kv.delete(revocationKey.user(user));
    await within(1_000, () => !cache.isRevoked(newUserId(), 0, sid) && !cache.isRevoked(user, 0, undefined, 1));
  });

  it('ignores a malformed user entry instead of revoking on it', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const user = newUserId();
    const marker = randomUUID();
    await kv.put(revocationKey.user(user), 'not json');
    await kv.put(`user.${user}x`, JSON.stringify({ revoked_before: 'soon' }));
    // a later, valid entry proves the malformed ones were already applied (the watch is ordered)
    await revokeSessionTokens(kv, marker);
    await within(1_000, () => cache.isRevoked(newUserId(), 0, marker));
    expect(cache.isRevoked(user, 0)).toBe(false);
    expect(cache.isRevoked(Number(`${user}1`), 0)).toBe(false);
  });

  it('stop ends the watch: later revocations are not applied', async () => {
    const kv = await bucket();
    const { cache, stop } = await startCache(kv);
    const live = await startCache(kv);
    stop();
    const sid = randomUUID();
    await revokeSessionTokens(kv, sid);
    // the running cache sees it, so the stopped one had the time to
    await within(1_000, () => live.cache.isRevoked(newUserId(), 0, sid));
    await new Promise((r) => setTimeout(r, 50));
    expect(cache.isRevoked(newUserId(), 0, sid)).toBe(false);
  });
});

describe('RevocationCache.prune', () => {
  it('forgets entries once every token they could refuse has expired, and keeps newer ones', async () => {
    const kv = await bucket();
    const { cache } = await startCache(kv);
    const [user, session] = [newUserId(), randomUUID()];
    await revokeUserTokens(kv, user, ALL_VERSIONS);
    await revokeSessionTokens(kv, session);
    await within(2000, () => cache.isRevoked(user, seconds(Date.now()), undefined, 1_000_000) && cache.isRevoked(newUserId(), 0, session));
    expect(cache.prune()).toBe(0);
    expect(cache.size).toBe(2);
    expect(cache.prune(Date.now() + (MAX_ACCESS_TOKEN_TTL_SECONDS + 120) * 1000)).toBe(2);
    expect(cache.isRevoked(user, seconds(Date.now()))).toBe(false);
    expect(cache.isRevoked(newUserId(), 0, session)).toBe(false);
  });

  /** A session revocation as a watch delivers it. */
  const entry = (revision: number, session: string, delta: number) => ({
    key: `session.${session}`,
    revision,
    delta,
    operation: 'PUT',
    string: () => JSON.stringify({ revoked_at: Date.now() }),
  });
  /** A watch that delivers `entries` and then never another one, like one whose consumer is gone. */
  const stalledWatch = (entries: ReturnType<typeof entry>[], onStop: () => void = () => undefined) => ({
    stop: onStop,
    async *[Symbol.asyncIterator]() {
      yield* entries;
      await new Promise(() => undefined);
    },
  });

  it('starts watching again when its watch stalls behind the bucket (its consumer died with a NATS node)', async () => {
    const [before, after] = [randomUUID(), randomUUID()];
    let lastSeq = 1;
    const watches = [stalledWatch([entry(1, before, 0)]), stalledWatch([entry(1, before, 1), entry(2, after, 0)])];
    // A stand-in for the bucket: its status and its watches are all the cache uses.
    const kv = { status: async () => ({ values: lastSeq, streamInfo: { state: { last_seq: lastSeq } } }), watch: async () => watches.shift() } as unknown as KV;
    const { cache, stop } = await RevocationCache.start(kv, silent, 50);
    stops.push(stop);
    expect(cache.isRevoked(newUserId(), 0, before)).toBe(true);
    // Written while the watch is stalled: the first watch never delivers it.
    lastSeq = 2;
    expect(await within(2_000, () => cache.isRevoked(newUserId(), 0, after))).toBeLessThan(2_000);
    expect(watches).toHaveLength(0);
  });

  it('starts another watch when starting one hangs (its consumer cannot be placed during a failover)', async () => {
    const [before, after] = [randomUUID(), randomUUID()];
    let stopped = 0;
    const watchOf = (entries: ReturnType<typeof entry>[]) => stalledWatch(entries, () => void stopped++);
    let lastSeq = 1;
    let releaseHung!: () => void;
    const hung = new Promise<ReturnType<typeof watchOf>>((resolve) => (releaseHung = () => resolve(watchOf([]))));
    const watches: Array<() => Promise<ReturnType<typeof watchOf>>> = [
      async () => watchOf([entry(1, before, 0)]),
      () => hung,
      async () => watchOf([entry(1, before, 1), entry(2, after, 0)]),
    ];
    const kv = { status: async () => ({ values: lastSeq, streamInfo: { state: { last_seq: lastSeq } } }), watch: () => watches.shift()!() } as unknown as KV;
    const { cache, stop } = await RevocationCache.start(kv, silent, 50, 300);
    stops.push(stop);
    lastSeq = 2;
    // The second watch never comes back; a check after the wait starts a third.
    expect(await within(3_000, () => cache.isRevoked(newUserId(), 0, after))).toBeLessThan(3_000);
    expect(watches).toHaveLength(0);
    // The hung watch, arriving late, is stopped and never replaces the live one.
    const stoppedBefore = stopped;
    releaseHung();
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(stoppedBefore + 1);
    expect(cache.isRevoked(newUserId(), 0, after)).toBe(true);
  });
});
