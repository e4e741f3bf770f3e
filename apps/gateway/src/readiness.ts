import { Rpcs } from '@um/contracts';
import type { NatsConnection, RpcClient } from '@um/platform';
import type { Readiness } from './app.js';

/** The RPCs the gateway itself calls outside routes. */
export const infrastructureRpcs = [Rpcs.users.health, Rpcs.auth.health, Rpcs.auth.jwks];

/** Ready = NATS connected and both services answering within a second. */
export function readinessProbe(nc: NatsConnection, rpc: Pick<RpcClient, 'call'>): () => Promise<Readiness> {
  return async () => {
    const ask = (r: (typeof infrastructureRpcs)[number]) =>
      rpc.call(r, {}, { requestId: 'readyz', timeoutMs: 1000 }).then(
        () => 'ok' as const,
        () => 'unavailable' as const,
      );
    const nats: Readiness['checks']['nats'] = nc.isClosed() ? 'unavailable' : 'ok';
    const [users, auth] = nats === 'ok' ? await Promise.all([ask(Rpcs.users.health), ask(Rpcs.auth.health)]) : (['unavailable', 'unavailable'] as const);
    const checks: Readiness['checks'] = { nats, users, auth };
    return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
  };
}
