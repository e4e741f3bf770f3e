import type { Role } from '@um/contracts';

/** Who may call a route. */
export type Rule =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'admin' }
  /** The user named by a path parameter, or any admin. */
  | { kind: 'self_or_admin'; param: string };

export const Public: Rule = { kind: 'public' };
export const Authenticated: Rule = { kind: 'authenticated' };
export const AdminOnly: Rule = { kind: 'admin' };
export const SelfOrAdmin = (param: string): Rule => ({ kind: 'self_or_admin', param });

export interface Principal {
  /** The user's id (the token's `sub`, parsed). */
  userId: number;
  role: Role;
  tokenId: string;
  sessionId: string;
}

/**
 * The one policy table: every route the gateway serves, and who may call it. A route missing here is
 * refused at start-up. The directory routes (list, search, another user's profile) follow
 * `USER_DIRECTORY`: any signed-in caller (`all`, the spec's default) or admins only (`admins`, where a
 * user still reads themselves).
 */
export function policyFor(directory: 'all' | 'admins') {
  const browse = directory === 'admins' ? AdminOnly : Authenticated;
  const profile = directory === 'admins' ? SelfOrAdmin('user_id') : Authenticated;
  return {
    'GET /healthz': Public,
    'GET /readyz': Public,
    'GET /openapi.json': Public,
    'GET /asyncapi.json': Public,
    'GET /docs': Public,
    'GET /.well-known/jwks.json': Public,
    'POST /register': Public,
    'POST /auth/register': Public,
    'POST /login': Public,
    'POST /auth/login': Public,
    'POST /login/mfa': Public,
    'POST /password/forgot': Public,
    'POST /password/reset': Public,
    'POST /refresh': Public,
    'POST /refresh_jwt': Public,
    'POST /logout': Authenticated,
    'GET /confirm-email': Public,
    'POST /confirm-email/resend': Authenticated,
    'POST /email-change/confirm': Public,
    'POST /email-change/cancel': Public,
    'GET /users': browse,
    'POST /users': AdminOnly,
    'GET /users/search': browse,
    'GET /users/me': Authenticated,
    'PUT /users': Authenticated,
    'PUT /users/me/password': Authenticated,
    'POST /users/me/mfa/totp': Authenticated,
    'POST /users/me/mfa/totp/confirm': Authenticated,
    'DELETE /users/me/mfa/totp': Authenticated,
    'GET /users/:user_id': profile,
    'PATCH /users/:user_id': SelfOrAdmin('user_id'),
    'DELETE /users/:user_id': SelfOrAdmin('user_id'),
    'PUT /users/:user_id/role': AdminOnly,
    'DELETE /users/:user_id/mfa/totp': AdminOnly,
    'GET /users/:user_id/history': SelfOrAdmin('user_id'),
    'POST /user_delete/:user_id': SelfOrAdmin('user_id'),
  } as const satisfies Record<string, Rule>;
}

export type Policy = ReturnType<typeof policyFor>;

/** The table with the default directory (`USER_DIRECTORY=all`); its keys are every route. */
export const policy: Policy = policyFor('all');

export type RouteKey = keyof typeof policy;

export type Decision = 'allow' | 'unauthenticated' | 'forbidden';

export function authorize(rule: Rule, principal: Principal | undefined, params: Record<string, string | undefined>): Decision {
  if (rule.kind === 'public') return 'allow';
  if (!principal) return 'unauthenticated';
  switch (rule.kind) {
    case 'authenticated':
      return 'allow';
    case 'admin':
      return principal.role === 'admin' ? 'allow' : 'forbidden';
    case 'self_or_admin':
      // Path ids are canonical decimals (checked before this), so comparing the text is exact.
      return principal.role === 'admin' || params[rule.param] === String(principal.userId) ? 'allow' : 'forbidden';
  }
}
