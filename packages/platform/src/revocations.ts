import { Buckets, bucketName, MAX_ACCESS_TOKEN_TTL_SECONDS, revocationKey, UserRevocation } from '@um/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from './logger.js';

/**
 * Token revocations live in a JetStream KV bucket: durable (a restarted gateway reads them back)
 * and pushed to every watcher within milliseconds. Entries expire once no token they could
 * refuse can still be alive.
 */
export async function openRevocations(nc: NatsConnection, namespace: string | undefined): Promise<KV> {
  return new Kvm(nc).create(bucketName(namespace, Buckets.revocations), {
    history: 1,
    ttl: (MAX_ACCESS_TOKEN_TTL_SECONDS + 60) * 1000,
  });
}

export async function revokeUserTokens(kv: KV, userId: string, at = Date.now()): Promise<void> {
  const value: UserRevocation = { revoked_before: at };
  await kv.put(revocationKey.user(userId), JSON.stringify(value));
}

/** In-memory view of the bucket, kept current by a watch. */
export class RevocationCache {
  private readonly users = new Map<string, number>();
  private stopped = false;

  private constructor(private readonly log: Logger) {}

  /** Resolves once every entry already stored has been loaded, so nothing revoked slips through after a restart. */
  static async start(kv: KV, log: Logger): Promise<{ cache: RevocationCache; stop: () => void }> {
    const cache = new RevocationCache(log);
    const status = await kv.status();
    const watch = await kv.watch({ key: 'user.>' });
    let markLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    if (status.values === 0) markLoaded();
    void (async () => {
      for await (const e of watch) {
        const userId = e.key.slice('user.'.length);
        if (e.operation === 'PUT') {
          const parsed = UserRevocation.safeParse(safeJson(e.string()));
          if (parsed.success) cache.users.set(userId, parsed.data.revoked_before);
          else log.warn({ key: e.key }, 'ignoring malformed revocation entry');
        } else {
          cache.users.delete(userId);
        }
        if (e.delta === 0) markLoaded();
      }
      if (!cache.stopped) log.error('revocation watch ended unexpectedly');
    })();
    await Promise.race([loaded, new Promise((r) => setTimeout(r, 5_000).unref())]);
    return {
      cache,
      stop: () => {
        cache.stopped = true;
        watch.stop();
      },
    };
  }

  /** True when a token of `userId` issued at `issuedAtSeconds` has been revoked. */
  isRevoked(userId: string, issuedAtSeconds: number): boolean {
    const before = this.users.get(userId);
    return before !== undefined && issuedAtSeconds * 1000 < before;
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
