import { errorCodeOf, type ErrorId } from './error-ids.js';
import type { ErrorCode } from './errors.js';

/**
 * The errors each RPC's owner answers on purpose, besides those every call can end in (an invalid
 * request, `unavailable`, `timeout`, `internal`) and those of every write (a repeated idempotency key
 * still in flight or reused with another body). The gateway documents each route's error statuses
 * from their codes (`rpcErrorCodes`); the end-to-end test of the API document fails on any status it left out.
 */
export const rpcErrors: Record<string, readonly ErrorId[]> = {
  // An admin's POST /users can be refused too (403), by its access rule.
  'users.register': ['users.username_taken', 'users.email_taken', 'users.username_lookalike', 'users.derived_username_exhausted', 'users.registration_rate_limited'],
  'users.list': [],
  'users.search': [],
  'users.get': ['users.not_found'],
  'users.delete': ['users.DeleteUser.not_found', 'users.last_admin', 'users.actor_missing', 'users.actor_not_admin'],
  'users.confirm_email': ['users.confirmation_invalid'],
  'users.request_email_confirmation': ['users.not_found', 'users.RequestEmailConfirmation.already_exists', 'users.confirmation_rate_limited'],
  'users.update': [
    'users.UpdateProfile.not_found',
    'users.username_taken',
    'users.email_taken',
    'users.username_lookalike',
    'users.last_admin',
    'users.actor_missing',
    'users.actor_not_admin',
    'users.email_change_rate_limited',
  ],
  'users.set_role': ['users.ChangeRole.not_found', 'users.last_admin', 'users.actor_missing', 'users.actor_not_admin'],
  'users.history': ['users.not_found', 'users.actor_missing', 'users.actor_not_admin'],
  'users.health': [],
  'users.request_password_reset': ['users.reset_rate_limited'],
  'users.confirm_email_change': ['users.email_change_link_invalid', 'users.email_taken'],
  'users.cancel_email_change': ['users.email_change_link_invalid'],
  'users.start_totp': ['users.not_found', 'users.mfa_already_active'],
  'users.confirm_totp': ['users.mfa_not_started', 'users.mfa_already_active'],
  'users.reset_mfa': ['users.DisableMfa.not_found', 'users.actor_missing', 'users.actor_not_admin'],
  'auth.login': ['auth.invalid_credentials', 'auth.mfa_required', 'auth.throttled'],
  'auth.login_mfa': ['auth.mfa_ticket_invalid', 'users.mfa_code_invalid', 'auth.throttled'],
  'auth.refresh': ['auth.refresh_invalid'],
  'auth.logout': [],
  'auth.jwks': [],
  'auth.health': [],
  'auth.reset_password': ['users.reset_link_invalid'],
  'auth.disable_totp': ['users.mfa_code_invalid', 'auth.reauthentication_required', 'users.DisableMfa.not_found', 'auth.throttled'],
  'auth.reauthenticate': ['auth.reauthentication_required', 'users.wrong_password', 'auth.throttled'],
  'auth.cancel_email_change': ['users.email_change_link_invalid'],
  'auth.change_password': ['auth.reauthentication_required', 'users.wrong_password', 'auth.throttled'],
};

/** The error codes an RPC's owner answers on purpose (those of its `rpcErrors`), or `undefined` for an RPC not listed. */
export function rpcErrorCodes(rpcName: string): ErrorCode[] | undefined {
  const ids = rpcErrors[rpcName];
  return ids && [...new Set(ids.map(errorCodeOf))];
}
