import { Rpcs } from '@um/contracts';
import { AppError, endpointFor, serveEndpoints, type Endpoint, type NatsConnection, type Registry, type RpcContext, type RpcServer, type TokenVerifier } from '@um/platform';
import { deleteUser } from './application/delete-user.js';
import { cancelEmailChange, confirmEmailChange, issueEmailChange } from './application/email-change.js';
import { emailChange, userHistory } from './application/history.js';
import { checkPasswordPolicy, setPassword, verifyCredentials, verifyPassword } from './application/credentials.js';
import { setRole, updateUser } from './application/update-user.js';
import { confirmEmail, issueEmailConfirmation, requestEmailConfirmation } from './application/email-confirmation.js';
import { legacyUserIds, resolveLogin, tokenSubject } from './application/auth-lookups.js';
import type { UsersDeps } from './application/deps.js';
import { getUser, listUsers, searchUsers } from './application/queries.js';
import { registerUser } from './application/register-user.js';
import { confirmTotp, disableMfa, startTotp, verifySecondFactor } from './application/mfa.js';
import { issuePasswordReset, requestPasswordReset, resetPassword } from './application/password-reset.js';

const endpoint = endpointFor<UsersDeps>();

/**
 * Calls that only the user may make for themselves (the gateway's policy says so too): the verified
 * token the gateway forwarded must be theirs, so a holder of a gateway's NATS credentials cannot
 * enrol a second factor on someone else's account.
 */
function selfOnly(ctx: RpcContext, userId: number): void {
  if (ctx.caller?.userId !== userId) throw new AppError('permission_denied', 'users.not_token_subject', 'You are not allowed to do this');
}

/** Every RPC users-service answers. Thin: parse is done by serveRpc, the work by the use cases. */
export const usersEndpoints: Endpoint<UsersDeps>[] = [
  endpoint(Rpcs.users.register, (d) => (req, ctx) => registerUser(d, req, ctx)),
  endpoint(Rpcs.users.list, (d) => (req) => listUsers(d.pool, req, d.paging)),
  endpoint(Rpcs.users.search, (d) => (req) => searchUsers(d.pool, req, d.profile, d.paging)),
  endpoint(Rpcs.users.get, (d) => (req) => getUser(d.pool, req.user_id)),
  endpoint(Rpcs.users.delete, (d) => (req, ctx) => deleteUser(d, req.user_id, ctx)),
  endpoint(Rpcs.users.verifyCredentials, (d) => (req) => verifyCredentials(d, req)),
  endpoint(Rpcs.users.confirmEmail, (d) => (req, ctx) => confirmEmail(d, req.token, ctx)),
  endpoint(Rpcs.users.requestEmailConfirmation, (d) => (req, ctx) => requestEmailConfirmation(d, req.user_id, ctx)),
  endpoint(Rpcs.users.issueEmailConfirmation, (d) => (req) => issueEmailConfirmation(d, req.email)),
  endpoint(Rpcs.users.update, (d) => (req, ctx) => updateUser(d, req, ctx)),
  endpoint(Rpcs.users.setRole, (d) => (req, ctx) => setRole(d, req.user_id, req.role, ctx)),
  endpoint(Rpcs.users.verifyPassword, (d) => (req) => verifyPassword(d, req.user_id, req.password)),
  endpoint(Rpcs.users.setPassword, (d) => (req, ctx) => setPassword(d, req.user_id, req.password, ctx)),
  endpoint(Rpcs.users.checkPasswordPolicy, (d) => (req) => checkPasswordPolicy(d, req.user_id, req.password)),
  endpoint(Rpcs.users.history, (d) => (req, ctx) => userHistory(d, req.user_id, ctx)),
  endpoint(Rpcs.users.tokenSubject, (d) => (req) => tokenSubject(d.pool, req.user_id)),
  endpoint(Rpcs.users.legacyIds, (d) => (req) => legacyUserIds(d.pool, req.stream_ids)),
  endpoint(Rpcs.users.resolveLogin, (d) => (req) => resolveLogin(d.pool, req.login)),
  endpoint(Rpcs.users.emailChange, (d) => (req) => emailChange(d, req.event_id)),
  endpoint(Rpcs.users.issueEmailChange, (d) => (req) => issueEmailChange(d, req.event_id)),
  endpoint(Rpcs.users.confirmEmailChange, (d) => (req, ctx) => confirmEmailChange(d, req.token, ctx)),
  endpoint(Rpcs.users.cancelEmailChange, (d) => (req, ctx) => cancelEmailChange(d, req.token, ctx)),
  endpoint(Rpcs.users.requestPasswordReset, (d) => (req, ctx) => requestPasswordReset(d, req, ctx)),
  endpoint(Rpcs.users.issuePasswordReset, (d) => (req) => issuePasswordReset(d, req.event_id)),
  endpoint(Rpcs.users.resetPassword, (d) => (req, ctx) => resetPassword(d, req.token, req.password, ctx)),
  endpoint(Rpcs.users.startTotp, (d) => (req, ctx) => {
    selfOnly(ctx, req.user_id);
    return startTotp(d, req.user_id);
  }),
  endpoint(Rpcs.users.confirmTotp, (d) => (req, ctx) => {
    selfOnly(ctx, req.user_id);
    return confirmTotp(d, req.user_id, req.code, ctx);
  }),
  endpoint(Rpcs.users.verifySecondFactor, (d) => (req) => verifySecondFactor(d, req.user_id, req.code)),
  endpoint(Rpcs.users.disableMfa, (d) => (req, ctx) => disableMfa(d, req.user_id, 'user', ctx)),
  endpoint(Rpcs.users.resetMfa, (d) => (req, ctx) => disableMfa(d, req.user_id, 'admin', ctx)),
  endpoint(Rpcs.users.health, (d) => async () => {
    await d.pool.query('SELECT 1');
    return { service: 'users', status: 'ok' as const };
  }),
];

/** Answer users RPCs; `tokens` verifies the access token the gateway forwards (the actor comes from it). */
export function serveUsers(nc: NatsConnection, namespace: string | undefined, deps: UsersDeps, tokens: Pick<TokenVerifier, 'verify'>, metrics?: Registry): RpcServer {
  return serveEndpoints(
    nc,
    { namespace, service: 'users-service', log: deps.log, idempotency: { store: deps.idempotency, pool: deps.pool }, tokens, ...(metrics ? { metrics } : {}) },
    usersEndpoints,
    deps,
  );
}
