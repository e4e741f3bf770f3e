import { Gauge, type Pool, type Registry } from '@um/platform';
import type { PasswordHasher } from './password-hasher.js';
import { relayLag } from './relay/relay-lag.js';

/**
 * users-service's own gauges, read at scrape time: the relay's lag (the same on every replica: take
 * the max, not the sum) and the bcrypt jobs waiting for a core on this replica.
 */
export function registerUsersMetrics(registry: Registry, o: { pool: Pool; schema: string; hasher: PasswordHasher }): void {
  let lag: Promise<{ unpublished: number; oldestAgeSeconds: number }> | undefined;
  // One query per scrape for both gauges.
  const readLag = () => (lag ??= relayLag(o.pool, o.schema).finally(() => setImmediate(() => (lag = undefined))));
  new Gauge({
    name: 'um_relay_unpublished_events',
    help: 'Events committed to the event table and not yet published to JetStream',
    registers: [registry],
    async collect() {
      this.set((await readLag()).unpublished);
    },
  });
  new Gauge({
    name: 'um_relay_oldest_unpublished_age_seconds',
    help: 'How long the oldest unpublished event has waited (0 when none waits)',
    registers: [registry],
    async collect() {
      this.set((await readLag()).oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'um_bcrypt_queue_length',
    help: 'Password hashes and checks waiting for a free core on this replica',
    registers: [registry],
    collect() {
      this.set(o.hasher.queued);
    },
  });
}
