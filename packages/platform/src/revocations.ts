import { Buckets, bucketName, MAX_ACCESS_TOKEN_TTL_SECONDS, revocationKey, SessionRevocation, UserRevocation } from '@um/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { AppError, parseJson } from './errors.js';
import { isFailover, throughFailover } from './jetstream-failover.js';
import type { Logger } from './logger.js';

/**
 * Token revocations live in a JetStream KV bucket: durable (a restarted gateway reads them back)
 * and pushed to every watcher within milliseconds. Entries expire once no token they could
 * refuse can still be alive. `replicas` copies when this call creates the bucket (`JETSTREAM_REPLICAS`).
 */
export async function openRevocations(nc: NatsConnection, namespace: string | undefined, replicas: number): Promise<KV> {
  return throughFailover(() =>
    new Kvm(nc).create(bucketName(namespace, Buckets.revocations), {
      history: 1,
      replicas,
      ttl: (MAX_ACCESS_TOKEN_TTL_SECONDS + 60) * 1000,
    }),
  );
}

/**
 * One read or write of the bucket, carried through a JetStream failover (the bucket's leader node
 * died and its other copies elect a new one); still failing after that, the caller answers 503.
 */
async function onBucket<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await throughFailover(op);
  } catch (e) {
    if (isFailover(e)) throw new AppError('unavailable', 'revocations.unavailable', 'Token revocations cannot be written right now', undefined, { cause: e });
    throw e;
  }
}

/** Version that refuses every token of a user, whatever it carries (deletion). */
export const ALL_VERSIONS = Number.MAX_SAFE_INTEGER;

/**
 * Refuse the user's tokens whose authorization version is below `belowVersion`. Writers race (the
 * fast path after a commit, the relay replaying the same event later, two role changes), so the
 * record only ever grows: a compare-and-set on the entry's revision keeps the highest version.
 */
export async function revokeUserTokens(kv: KV, userId: number, belowVersion: number): Promise<void> {
  const key = revocationKey.user(userId);
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await onBucket(() => kv.get(key));
    const stored = current?.operation === 'PUT' ? UserRevocation.safeParse(parseJson(current.string())) : undefined;
    if (stored?.success && (stored.data.below_version ?? -1) >= belowVersion) return;
    const value: UserRevocation = { below_version: belowVersion };
    try {
      if (current) await onBucket(() => kv.update(key, JSON.stringify(value), current.revision));
      else await onBucket(() => kv.create(key, JSON.stringify(value)));
      return;
    } catch (e) {
      // Someone wrote in between: read again and compare.
      if (attempt === 19 || e instanceof AppError) throw e;
    }
  }
}

/** Refuse every token of one session (logout, refresh-token reuse, password change elsewhere). */
export async function revokeSessionTokens(kv: KV, sessionId: string, at = Date.now()): Promise<void> {
  const value = SessionRevocation.parse({ revoked_at: at });
  await onBucket(() => kv.put(revocationKey.session(sessionId), JSON.stringify(value)));
}

/** In-memory view of the bucket, kept current by a watch. */
export class RevocationCache {
  /** user id (as in the key, decimal) → tokens below this version (or issued before this instant, older records) are refused. */
  private readonly users = new Map<string, { belowVersion: number; before: number; seenAt: number }>();
  /** session id → when we learnt it was revoked. */
  private readonly sessions = new Map<string, number>();
  private stopped = false;

  private constructor(private readonly log: Logger) {}

  /** Stream sequence of the newest entry the watch delivered. */
  private lastRevision = 0;
  private watch: { stop(): void } | undefined;
  /** Counts the watches started: a watch that comes back after a newer one was started is stopped unused. */
  private generation = 0;

  /**
   * Resolves once every entry already stored has been loaded, so nothing revoked slips through after a restart.
   * Every `checkEveryMs` the bucket's last sequence is compared with the watch's: a watch that fell
   * behind and stayed behind for a whole interval (its consumer lived on a NATS node that died) is
   * started again from the beginning, which replays every entry. A start that has not loaded within
   * `followWaitMs` (placing the watch's consumer can hang during a failover) lets a later check try again.
   */
  static async start(kv: KV, log: Logger, checkEveryMs = 2_000, followWaitMs = 10_000): Promise<{ cache: RevocationCache; stop: () => void }> {
    const cache = new RevocationCache(log);
    await cache.follow(kv);
    const sweep = setInterval(() => cache.prune(), 10 * 60_000);
    sweep.unref();
    let behindAt: number | undefined;
    let checking = false;
    const check = setInterval(() => {
      if (checking || cache.stopped) return;
      checking = true;
      void kv
        .status()
        .then(async (status) => {
          const last = status.streamInfo.state.last_seq;
          if (last <= cache.lastRevision) behindAt = undefined;
          else if (behindAt !== cache.lastRevision) behindAt = cache.lastRevision;
          else if (!cache.stopped) {
            log.warn({ bucket_seq: last, watch_seq: cache.lastRevision }, 'revocation watch stalled; watching again');
            behindAt = undefined;
            // Creating the watch can hang while the bucket fails over (the library keeps trying to
            // place its consumer): a later check must still be able to start another one.
            const started = await Promise.race([cache.follow(kv).then(() => true), new Promise<false>((r) => setTimeout(r, followWaitMs, false).unref())]);
            if (!started) log.warn({ wait_ms: followWaitMs }, 'revocation watch did not load in time; the next checks try again');
          }
        })
        // The bucket is failing over: the next check looks again.
        .catch((err: unknown) => log.debug({ err }, 'revocation watch check failed'))
        .finally(() => (checking = false));
    }, checkEveryMs);
    check.unref();
    return {
      cache,
      stop: () => {
        cache.stopped = true;
        clearInterval(sweep);
        clearInterval(check);
        cache.watch?.stop();
      },
    };
  }

  /** (Re)start the watch from the first entry; resolves once what the bucket holds is loaded, or after 5 s. */
  private async follow(kv: KV): Promise<void> {
    const generation = ++this.generation;
    const status = await throughFailover(() => kv.status());
    const watch = await throughFailover(() => kv.watch());
    if (generation !== this.generation || this.stopped) {
      watch.stop();
      return;
    }
    this.watch?.stop();
    this.watch = watch;
    let markLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    if (status.values === 0) markLoaded();
    void (async () => {
      for await (const e of watch) {
        this.lastRevision = Math.max(this.lastRevision, e.revision);
        this.apply(e.key, e.operation === 'PUT' ? e.string() : undefined);
        if (e.delta === 0) markLoaded();
      }
      if (!this.stopped && this.watch === watch) this.log.error('revocation watch ended unexpectedly; the next check starts it again');
    })();
    await Promise.race([loaded, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private apply(key: string, value: string | undefined): void {
    const [kind, id] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
    if (kind === 'user') {
      const parsed = value === undefined ? undefined : UserRevocation.safeParse(parseJson(value));
      if (parsed?.success) this.users.set(id, { belowVersion: parsed.data.below_version ?? 0, before: parsed.data.revoked_before ?? 0, seenAt: Date.now() });
      else if (value === undefined) this.users.delete(id);
      else this.log.warn({ key }, 'ignoring malformed revocation entry');
    } else if (kind === 'session') {
      if (value === undefined) this.sessions.delete(id);
      else this.sessions.set(id, Date.now());
    }
  }

  /**
   * True when a token of `userId`, of session `sessionId`, issued at `issuedAtSeconds` with
   * authorization version `version`, has been revoked.
   */
  isRevoked(userId: number, issuedAtSeconds: number, sessionId?: string, version = 0): boolean {
    if (sessionId && this.sessions.has(sessionId)) return true;
    const entry = this.users.get(String(userId));
    return entry !== undefined && (version < entry.belowVersion || issuedAtSeconds * 1000 < entry.before);
  }

  /**
   * Forget entries no live token can be refused by any more (every token they could refuse has
   * expired). The bucket expires them too, but a watch is not told of expiries.
   */
  prune(now = Date.now()): number {
    const horizon = now - (MAX_ACCESS_TOKEN_TTL_SECONDS + 60) * 1000;
    let dropped = 0;
    for (const [id, e] of this.users) if (e.seenAt < horizon) dropped += Number(this.users.delete(id));
    for (const [id, seenAt] of this.sessions) if (seenAt < horizon) dropped += Number(this.sessions.delete(id));
    return dropped;
  }

  get size(): number {
    return this.users.size + this.sessions.size;
  }
}
