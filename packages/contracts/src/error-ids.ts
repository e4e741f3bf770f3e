import type { ErrorCode } from './errors.js';

/**
 * Every error id the system throws, with its kind (`ErrorCode`, which the gateway maps to an HTTP
 * status). An id names one throw site or one family of them, stable across releases: clients and
 * logs may match on it. `AppError` accepts only these ids, each with its own code.
 */
export const ERROR_IDS = {
  // Any service
  'internal.unexpected': 'internal',
  'idempotency.in_flight': 'already_exists',
  'idempotency.key_reused': 'invalid_argument',
  'revocations.unavailable': 'unavailable',
  // RPC transport (platform)
  'rpc.payload_not_json': 'bad_request',
  'rpc.idempotency_key_invalid': 'bad_request',
  'rpc.bad_reply': 'internal',
  'rpc.no_responders': 'unavailable',
  'rpc.timeout': 'timeout',
  'rpc.transport': 'unavailable',
  /** The forwarded access token names another user than `x-actor-id`. */
  'rpc.actor_not_token_subject': 'permission_denied',
  // Gateway: HTTP, access and token checks
  'http.no_route': 'not_found',
  'http.invalid_query': 'invalid_argument',
  'http.invalid_body': 'invalid_argument',
  'http.body_not_object': 'bad_request',
  'http.idempotency_key_invalid': 'bad_request',
  'http.refresh_token_twice': 'invalid_argument',
  'http.refresh_token_missing': 'invalid_argument',
  /** Problems of the HTTP layer itself, answered with their own status (`HttpProblem`). */
  'http.malformed_body': 'bad_request',
  'http.body_too_large': 'bad_request',
  'http.unsupported_encoding': 'bad_request',
  'http.unsupported_media_type': 'bad_request',
  'http.method_not_allowed': 'bad_request',
  'http.bad_request': 'bad_request',
  'gateway.undeclared_rpc': 'internal',
  'gateway.unexpected': 'internal',
  'gateway.unhandled': 'internal',
  'access.forbidden': 'permission_denied',
  'access.hidden_filter': 'permission_denied',
  'auth.missing_token': 'unauthenticated',
  'auth.token_malformed': 'unauthenticated',
  'auth.token_invalid': 'unauthenticated',
  'auth.token_expired': 'unauthenticated',
  'auth.token_revoked': 'unauthenticated',
  /** Logout, password change or disabling TOTP for a session that is not the verified token's. */
  'auth.not_token_session': 'permission_denied',
  'auth.token_claims': 'unauthenticated',
  'auth.token_iat_future': 'unauthenticated',
  'auth.token_lifetime': 'unauthenticated',
  'auth.token_no_exp': 'unauthenticated',
  'auth.token_no_iat': 'unauthenticated',
  'auth.jwks_unavailable': 'unavailable',
  'auth.mfa_required': 'mfa_required',
  // auth-service
  'auth.invalid_credentials': 'unauthenticated',
  'auth.refresh_invalid': 'unauthenticated',
  'auth.mfa_ticket_invalid': 'unauthenticated',
  'auth.reauthentication_required': 'unauthenticated',
  'auth.password_unchanged': 'invalid_argument',
  'auth.throttled': 'resource_exhausted',
  // users-service
  'users.not_found': 'not_found',
  'users.username_taken': 'already_exists',
  'users.email_taken': 'already_exists',
  'users.username_lookalike': 'already_exists',
  'users.derived_username_exhausted': 'already_exists',
  'users.last_admin': 'already_exists',
  'users.actor_missing': 'permission_denied',
  'users.actor_not_admin': 'permission_denied',
  /** A call only the user may make for themselves, without their verified token. */
  'users.not_token_subject': 'permission_denied',
  'users.invalid_attributes': 'invalid_argument',
  'users.invalid_search_attributes': 'invalid_argument',
  'users.weak_password': 'invalid_argument',
  'users.wrong_password': 'invalid_argument',
  'users.cursor_invalid': 'invalid_argument',
  'users.cursor_and_offset': 'invalid_argument',
  'users.limit_too_large': 'invalid_argument',
  'users.registration_rate_limited': 'resource_exhausted',
  'users.confirmation_invalid': 'bad_request',
  'users.confirmation_rate_limited': 'resource_exhausted',
  'users.email_change_not_found': 'not_found',
  'users.email_change_link_invalid': 'bad_request',
  'users.email_change_rate_limited': 'resource_exhausted',
  'users.reset_link_invalid': 'bad_request',
  'users.reset_request_not_found': 'not_found',
  'users.reset_rate_limited': 'resource_exhausted',
  'users.mfa_not_started': 'not_found',
  'users.mfa_already_active': 'already_exists',
  'users.mfa_confirm_code': 'invalid_argument',
  'users.mfa_code_invalid': 'unauthenticated',
  'events.version_conflict': 'already_exists',
  // admin command line
  'admin.create_admin.invalid': 'invalid_argument',
} as const satisfies Record<string, ErrorCode>;

type Registered = typeof ERROR_IDS;

/** Why users-service's decision refuses a command. */
type CommandRejection = 'not_found' | 'already_exists' | 'resource_exhausted';

/**
 * Ids built at the throw site, one per RPC or command: `<rpc>.invalid` (the request failed its
 * schema), `<rpc>.unexpected` and `<rpc>.idempotency` (an internal failure while answering it), and
 * `users.<Command>.<reason>` (the decision refused a command: not found, already exists or too soon).
 */
type FamilyErrors =
  | [code: 'invalid_argument', id: `${string}.invalid`]
  | [code: 'internal', id: `${string}.unexpected` | `${string}.idempotency`]
  | [code: CommandRejection, id: `users.${string}.${CommandRejection}`];

/** An error's code and id, as `AppError` takes them: a registered id with its own code, or one of a family. */
export type ErrorCodeAndId = { [I in keyof Registered]: [code: Registered[I], id: I] }[keyof Registered] | FamilyErrors;

export type ErrorId = ErrorCodeAndId[1];

/** A registered id with the registry's code, as `new AppError(...registeredError(id), message)` takes them: for an id chosen at run time. */
export const registeredError = (id: keyof Registered): ErrorCodeAndId => [ERROR_IDS[id], id] as ErrorCodeAndId;

/** The ids an error of kind `C` may have. */
export type ErrorIdOf<C extends ErrorCode> = ErrorCodeAndId extends infer T ? (T extends [infer K, infer I] ? (C extends K ? I : never) : never) : never;

/** The code of an error id: the registry's, or for a family the one its suffix names. */
export function errorCodeOf(id: ErrorId): ErrorCode {
  if (id in ERROR_IDS) return ERROR_IDS[id as keyof Registered];
  if (id.endsWith('.invalid')) return 'invalid_argument';
  if (id.endsWith('.not_found')) return 'not_found';
  if (id.endsWith('.already_exists')) return 'already_exists';
  if (id.endsWith('.resource_exhausted')) return 'resource_exhausted';
  return 'internal';
}
