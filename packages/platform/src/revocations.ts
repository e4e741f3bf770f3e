import { Buckets, bucketName, MAX_ACCESS_TOKEN_TTL_SECONDS, revocationKey, SessionRevocation, UserRevocation } from '@um/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { parseJson } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Token revocations live in a JetStream KV bucket: durable (a restarted gateway reads them back)
 * and pushed to every watcher within milliseconds. Entries expire once no token they could
 * refuse can still be alive. `replicas` copies when this call creates the bucket (`JETSTREAM_REPLICAS`).
 */
export async function openRevocations(nc: NatsConnection, namespace: string | undefined, replicas: number): Promise<KV> {
  return new Kvm(nc).create(bucketName(namespace, Buckets.revocations), {
    history: 1,
    replicas,
    ttl: (MAX_ACCESS_TOKEN_TTL_SECONDS + 60) * 1000,
  });
}

/** Version that refuses every token of a user, whatever it carries (deletion). */
export const ALL_VERSIONS = Number.MAX_SAFE_INTEGER;

/**
 * Refuse the user's tokens whose authorization version is below `belowVersion`. Writers race (the
 * fast path after a commit, the relay replaying the same event later, two role changes), so the
 * record only ever grows: a compare-and-set on the entry's revision keeps the highest version.
 */
export async function revokeUserTokens(kv: KV, userId: string, belowVersion: number): Promise<void> {
  const key = revocationKey.user(userId);
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await kv.get(key);
    const stored = current?.operation === 'PUT' ? UserRevocation.safeParse(parseJson(current.string())) : undefined;
    if (stored?.success && (stored.data.below_version ?? -1) >= belowVersion) return;
    const value: UserRevocation = { below_version: belowVersion };
    try {
      if (current) await kv.update(key, JSON.stringify(value), current.revision);
      else await kv.create(key, JSON.stringify(value));
      return;
    } catch (e) {
      // Someone wrote in between: read again and compare.
      if (attempt === 19) throw e;
    }
  }
}

/** Refuse every token of one session (logout, refresh-token reuse, password change elsewhere). */
export async function revokeSessionTokens(kv: KV, sessionId: string, at = Date.now()): Promise<void> {
  const value = SessionRevocation.parse({ revoked_at: at });
  await kv.put(revocationKey.session(sessionId), JSON.stringify(value));
}

/** In-memory view of the bucket, kept current by a watch. */
export class RevocationCache {
  /** user id → tokens below this version (or issued before this instant, older records) are refused. */
  private readonly users = new Map<string, { belowVersion: number; before: number; seenAt: number }>();
  /** session id → when we learnt it was revoked. */
  private readonly sessions = new Map<string, number>();
  private stopped = false;

  private constructor(private readonly log: Logger) {}

  /** Resolves once every entry already stored has been loaded, so nothing revoked slips through after a restart. */
  static async start(kv: KV, log: Logger): Promise<{ cache: RevocationCache; stop: () => void }> {
    const cache = new RevocationCache(log);
    const status = await kv.status();
    const watch = await kv.watch();
    let markLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    if (status.values === 0) markLoaded();
    void (async () => {
      for await (const e of watch) {
        cache.apply(e.key, e.operation === 'PUT' ? e.string() : undefined);
        if (e.delta === 0) markLoaded();
      }
      if (!cache.stopped) log.error('revocation watch ended unexpectedly');
    })();
    await Promise.race([loaded, new Promise((r) => setTimeout(r, 5_000).unref())]);
    const sweep = setInterval(() => cache.prune(), 10 * 60_000);
    sweep.unref();
    return {
      cache,
      stop: () => {
        cache.stopped = true;
        clearInterval(sweep);
        watch.stop();
      },
    };
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
  isRevoked(userId: string, issuedAtSeconds: number, sessionId?: string, version = 0): boolean {
    if (sessionId && this.sessions.has(sessionId)) return true;
    const entry = this.users.get(userId);
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
