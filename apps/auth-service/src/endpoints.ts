import { Rpcs } from '@um/contracts';
import { AppError, endpointFor, serveEndpoints, type Endpoint, type NatsConnection, type Registry, type RpcContext, type RpcServer, type TokenVerifier } from '@um/platform';
import { cancelEmailChange, changePassword, disableTotp, logout, reauthenticate, resetPassword } from './application/account.js';
import type { AuthDeps } from './application/deps.js';
import { login, loginMfa, refresh } from './application/sessions.js';

const endpoint = endpointFor<AuthDeps>();

/**
 * The user and session a call names must be those of the verified access token the gateway
 * forwarded: a holder of a gateway's NATS credentials cannot end, or change the password of, a
 * session that is not theirs.
 */
function ownSession<T extends { user_id: number; session_id: string }>(req: T, ctx: RpcContext): T {
  if (ctx.caller?.userId !== req.user_id || ctx.caller.sessionId !== req.session_id)
    throw new AppError('permission_denied', 'auth.not_token_session', 'You are not allowed to do this');
  return req;
}

/** Every RPC auth-service answers. */
export const authEndpoints: Endpoint<AuthDeps>[] = [
  endpoint(Rpcs.auth.login, (d) => (req, ctx) => login(d, req, ctx)),
  endpoint(Rpcs.auth.refresh, (d) => (req, ctx) => refresh(d, req.refresh_token, ctx)),
  endpoint(Rpcs.auth.logout, (d) => (req, ctx) => logout(d, ownSession(req, ctx))),
  endpoint(Rpcs.auth.changePassword, (d) => (req, ctx) => changePassword(d, ownSession(req, ctx), ctx)),
  endpoint(Rpcs.auth.loginMfa, (d) => (req, ctx) => loginMfa(d, req, ctx)),
  endpoint(Rpcs.auth.resetPassword, (d) => (req, ctx) => resetPassword(d, req, ctx)),
  endpoint(Rpcs.auth.disableTotp, (d) => (req, ctx) => disableTotp(d, ownSession(req, ctx), ctx)),
  endpoint(Rpcs.auth.reauthenticate, (d) => (req, ctx) => reauthenticate(d, ownSession(req, ctx), ctx)),
  endpoint(Rpcs.auth.cancelEmailChange, (d) => (req, ctx) => cancelEmailChange(d, req, ctx)),
  endpoint(Rpcs.auth.jwks, (d) => async () => d.jwks()),
  endpoint(Rpcs.auth.health, (d) => async () => {
    await d.pool.query('SELECT 1');
    return { service: 'auth', status: 'ok' as const };
  }),
];

/** Answer auth RPCs; `tokens` verifies the access token the gateway forwards (the actor comes from it). */
export function serveAuth(nc: NatsConnection, namespace: string | undefined, deps: AuthDeps, tokens: Pick<TokenVerifier, 'verify'>, metrics?: Registry): RpcServer {
  return serveEndpoints(
    nc,
    { namespace, service: 'auth-service', log: deps.log, idempotency: { store: deps.idempotency, pool: deps.pool }, tokens, ...(metrics ? { metrics } : {}) },
    authEndpoints,
    deps,
  );
}
