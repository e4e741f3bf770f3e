import { Rpcs } from '@um/contracts';
import { endpointFor, serveEndpoints, type Endpoint, type NatsConnection, type Registry, type RpcServer } from '@um/platform';
import { cancelEmailChange, changePassword, disableTotp, logout, reauthenticate, resetPassword } from './application/account.js';
import type { AuthDeps } from './application/deps.js';
import { login, loginMfa, refresh } from './application/sessions.js';

const endpoint = endpointFor<AuthDeps>();

/** Every RPC auth-service answers. */
export const authEndpoints: Endpoint<AuthDeps>[] = [
  endpoint(Rpcs.auth.login, (d) => (req, ctx) => login(d, req, ctx)),
  endpoint(Rpcs.auth.refresh, (d) => (req, ctx) => refresh(d, req.refresh_token, ctx)),
  endpoint(Rpcs.auth.logout, (d) => (req) => logout(d, req)),
  endpoint(Rpcs.auth.changePassword, (d) => (req, ctx) => changePassword(d, req, ctx)),
  endpoint(Rpcs.auth.loginMfa, (d) => (req, ctx) => loginMfa(d, req, ctx)),
  endpoint(Rpcs.auth.resetPassword, (d) => (req, ctx) => resetPassword(d, req, ctx)),
  endpoint(Rpcs.auth.disableTotp, (d) => (req, ctx) => disableTotp(d, req, ctx)),
  endpoint(Rpcs.auth.reauthenticate, (d) => (req, ctx) => reauthenticate(d, req, ctx)),
  endpoint(Rpcs.auth.cancelEmailChange, (d) => (req, ctx) => cancelEmailChange(d, req, ctx)),
  endpoint(Rpcs.auth.jwks, (d) => async () => d.jwks()),
  endpoint(Rpcs.auth.health, (d) => async () => {
    await d.pool.query('SELECT 1');
    return { service: 'auth', status: 'ok' as const };
  }),
];

export function serveAuth(nc: NatsConnection, namespace: string | undefined, deps: AuthDeps, metrics?: Registry): RpcServer {
  return serveEndpoints(
    nc,
    { namespace, service: 'auth-service', log: deps.log, idempotency: { store: deps.idempotency, pool: deps.pool }, ...(metrics ? { metrics } : {}) },
    authEndpoints,
    deps,
  );
}
