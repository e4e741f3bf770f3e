import type { ErrorCode } from './errors.js';

/**
 * The errors each RPC's owner answers on purpose, besides those every call can end in (an invalid
 * request, `unavailable`, `timeout`, `internal`) and those of every write (a repeated idempotency key
 * still in flight or reused with another body). The gateway documents each route's error statuses
 * from this table; the end-to-end test of the API document fails on any status it left out.
 */
export const rpcErrors: Record<string, readonly ErrorCode[]> = {
  // An admin's POST /users can be refused too (403), by its access rule.
  'users.register': ['already_exists', 'resource_exhausted'],
  'users.list': [],
  'users.search': [],
  'users.get': ['not_found'],
  'users.delete': ['not_found', 'already_exists', 'permission_denied'],
  'users.confirm_email': ['bad_request'],
  'users.request_email_confirmation': ['not_found', 'already_exists', 'resource_exhausted'],
  'users.update': ['not_found', 'already_exists', 'permission_denied'],
  'users.set_role': ['not_found', 'already_exists', 'permission_denied'],
  'users.history': ['not_found', 'permission_denied'],
  'users.health': [],
  'users.request_password_reset': ['resource_exhausted'],
  'users.start_totp': ['not_found', 'already_exists'],
  'users.confirm_totp': ['not_found', 'already_exists'],
  'users.reset_mfa': ['not_found', 'permission_denied'],
  'auth.login': ['unauthenticated', 'mfa_required', 'resource_exhausted'],
  'auth.login_mfa': ['unauthenticated', 'resource_exhausted'],
  'auth.refresh': ['unauthenticated'],
  'auth.logout': [],
  'auth.change_password': ['resource_exhausted'],
  'auth.jwks': [],
  'auth.health': [],
  'auth.reset_password': ['bad_request'],
  'auth.disable_totp': ['unauthenticated', 'not_found', 'resource_exhausted'],
};
