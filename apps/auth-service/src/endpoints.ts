import { Rpcs, type Jwks, type Rpc } from '@um/contracts';
import { serveRpc, type Logger, type NatsConnection, type Pool, type RpcHandler, type Subscription } from '@um/platform';
import { login, type LoginDeps } from './application/login.js';

export interface AuthDeps extends LoginDeps {
  pool: Pool;
  jwks: () => Jwks;
  log: Logger;
}

type Endpoint = { rpc: Rpc; handler: (deps: AuthDeps) => RpcHandler<Rpc> };
const endpoint = <R extends Rpc>(rpc: R, handler: (deps: AuthDeps) => RpcHandler<R>): Endpoint => ({ rpc, handler: handler as Endpoint['handler'] });

/** Every RPC auth-service answers. */
export const authEndpoints: Endpoint[] = [
  endpoint(Rpcs.auth.login, (d) => (req, ctx) => login(d, req, ctx)),
  endpoint(Rpcs.auth.jwks, (d) => async () => d.jwks()),
  endpoint(Rpcs.auth.health, (d) => async () => {
    await d.pool.query('SELECT 1');
    return { service: 'auth', status: 'ok' as const };
  }),
];

export function serveAuth(nc: NatsConnection, namespace: string | undefined, deps: AuthDeps): Subscription[] {
  return authEndpoints.map((e) => serveRpc(nc, { namespace, service: 'auth-service', log: deps.log }, e.rpc, e.handler(deps)));
}
