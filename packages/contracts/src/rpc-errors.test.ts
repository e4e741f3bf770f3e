import { describe, expect, it } from 'vitest';
import { ERROR_IDS, errorCodeOf } from './error-ids.js';
import { rpcErrorCodes, rpcErrors } from './rpc-errors.js';

describe('rpcErrors', () => {
  it('documents the codes of the ids each RPC answers', () => {
    const codes = Object.fromEntries(Object.keys(rpcErrors).map((name) => [name, rpcErrorCodes(name)?.sort()]));
    expect(codes).toEqual({
      'users.register': ['already_exists', 'resource_exhausted'],
      'users.list': [],
      'users.search': [],
      'users.get': ['not_found'],
      'users.delete': ['already_exists', 'not_found', 'permission_denied'],
      'users.confirm_email': ['bad_request'],
      'users.request_email_confirmation': ['already_exists', 'not_found', 'resource_exhausted'],
      'users.update': ['already_exists', 'not_found', 'permission_denied', 'resource_exhausted'],
      'users.set_role': ['already_exists', 'not_found', 'permission_denied'],
      'users.history': ['not_found', 'permission_denied'],
      'users.health': [],
      'users.request_password_reset': ['resource_exhausted'],
      'users.confirm_email_change': ['already_exists', 'bad_request'],
      'users.cancel_email_change': ['bad_request'],
      'users.start_totp': ['already_exists', 'not_found'],
      'users.confirm_totp': ['already_exists', 'not_found'],
      'users.reset_mfa': ['not_found', 'permission_denied'],
      'auth.login': ['mfa_required', 'resource_exhausted', 'unauthenticated'],
      'auth.login_mfa': ['resource_exhausted', 'unauthenticated'],
      'auth.refresh': ['unauthenticated'],
      'auth.logout': [],
      'auth.jwks': [],
      'auth.health': [],
      'auth.reset_password': ['bad_request'],
      'auth.disable_totp': ['not_found', 'resource_exhausted', 'unauthenticated'],
      'auth.reauthenticate': ['invalid_argument', 'resource_exhausted', 'unauthenticated'],
      'auth.cancel_email_change': ['bad_request'],
      'auth.change_password': ['invalid_argument', 'resource_exhausted', 'unauthenticated'],
    });
    expect(rpcErrorCodes('users.no_such_rpc')).toBeUndefined();
  });
});

describe('errorCodeOf', () => {
  it("answers a registered id's code, and a family's from its suffix", () => {
    expect(errorCodeOf('users.last_admin')).toBe(ERROR_IDS['users.last_admin']);
    expect(errorCodeOf('auth.throttled')).toBe('resource_exhausted');
    expect(errorCodeOf('users.get.invalid')).toBe('invalid_argument');
    expect(errorCodeOf('users.get.unexpected')).toBe('internal');
    expect(errorCodeOf('auth.login.idempotency')).toBe('internal');
    expect(errorCodeOf('users.DeleteUser.not_found')).toBe('not_found');
    expect(errorCodeOf('users.ConfirmEmail.already_exists')).toBe('already_exists');
    expect(errorCodeOf('users.RequestEmailConfirmation.resource_exhausted')).toBe('resource_exhausted');
  });
});
