import { z } from 'zod';
import {
  CancelEmailChange,
  EmailChangeCancelResult,
  Reauthenticate,
  Reauthenticated,
  ChangePassword,
  DisableTotp,
  Jwks,
  LoginMfaRequest,
  LoginRequest,
  LoginRpcReply,
  LoginTokens,
  Logout,
  LogoutReply,
  PasswordChangeResult,
  PasswordResetResult,
  Refresh,
  SessionTokens,
} from './auth/requests.js';
import {
  Accepted,
  ConfirmTotp,
  DisableMfa,
  IssuePasswordReset,
  MfaDisabledReply,
  PasswordResetDone,
  PasswordResetIssued,
  RecoveryCodes,
  RequestPasswordReset,
  ResetPassword,
  SecondFactorVerified,
  TotpEnrolment,
  VerifySecondFactor,
  CheckPasswordPolicy,
  ConfirmEmail,
  Done,
  EmailChange,
  EmailChangeCancelledReply,
  EmailChangeConfirmed,
  EmailChangeIssued,
  EmailChangeRequest,
  EmailChangeToken,
  IssueEmailChange,
  History,
  RegisterUserRequest,
  ResolveLogin,
  ResolvedLogin,
  TokenSubject,
  SetPassword,
  SetRole,
  UpdateUser,
  VerifyPassword,
  EmailConfirmationAccepted,
  EmailConfirmationIssued,
  Empty,
  Health,
  IssueEmailConfirmation,
  LegacyUserIds,
  LegacyUserIdsRequest,
  ListUsers,
  SearchUsersRequest,
  UserId,
  UserPage,
  VerifyCredentials,
} from './users/requests.js';
import { User } from './users/user.js';

/** The processes that connect to NATS, each with its own credentials. */
export const Services = ['gateway', 'users-service', 'auth-service', 'mail-service'] as const;
export type ServiceName = (typeof Services)[number];

/**
 * Whether an RPC is safe to send again when an attempt went unanswered: a `read` changes nothing,
 * so any replica may answer it twice; a `write` carries an idempotency key (`Headers.idempotencyKey`)
 * and its owner records the key with the outcome in the write's transaction, so a repeat with the
 * same key answers the recorded outcome instead of acting twice.
 */
export type RpcKind = 'read' | 'write';

/** One request/reply operation: its subject suffix, owner, who may call it, and both schemas. */
export interface Rpc<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  name: string;
  service: 'users' | 'auth';
  /** The only services allowed to send this request; the NATS permissions are generated from it. */
  callers: readonly ServiceName[];
  request: Req;
  reply: Res;
  /** What makes a repeat safe: see `RpcKind`. */
  kind: RpcKind;
  /**
   * A write whose answer hangs on state that changes between requests (the login throttle, a
   * session's revocation, refresh-token reuse): the gateway ignores a client's `Idempotency-Key`
   * on its routes, so every request is answered from the current state, never from a reply
   * recorded for an earlier one. Its own retries of one request still share a key.
   */
  ignoresClientKey?: true;
}

const rpc = <Req extends z.ZodType, Res extends z.ZodType>(
  name: string,
  service: Rpc['service'],
  callers: readonly ServiceName[],
  request: Req,
  reply: Res,
  kind: RpcKind,
  options: Pick<Rpc, 'ignoresClientKey'> = {},
): Rpc<Req, Res> => ({ name, service, callers, request, reply, kind, ...options });

/** Logins and refresh: see `Rpc.ignoresClientKey`. */
const fromCurrentState = { ignoresClientKey: true } as const;

/** Who calls what: the gateway the user-facing operations, services the internal ones. */
const gateway = ['gateway'] as const;

/** Every RPC in the system. Callers and handlers both import from here, so they cannot drift. */
export const Rpcs = {
  users: {
    register: rpc('users.register', 'users', gateway, RegisterUserRequest, User, 'write'),
    list: rpc('users.list', 'users', gateway, ListUsers, UserPage, 'read'),
    search: rpc('users.search', 'users', gateway, SearchUsersRequest, UserPage, 'read'),
    get: rpc('users.get', 'users', ['gateway', 'auth-service', 'mail-service'], UserId, User, 'read'),
    delete: rpc('users.delete', 'users', gateway, UserId, User, 'write'),
    resolveLogin: rpc('users.resolve_login', 'users', ['auth-service'], ResolveLogin, ResolvedLogin, 'read'),
    tokenSubject: rpc('users.token_subject', 'users', ['auth-service'], UserId, TokenSubject, 'read'),
    legacyIds: rpc('users.legacy_ids', 'users', ['auth-service'], LegacyUserIdsRequest, LegacyUserIds, 'read'),
    verifyCredentials: rpc('users.verify_credentials', 'users', ['auth-service'], VerifyCredentials, User, 'read'),
    confirmEmail: rpc('users.confirm_email', 'users', gateway, ConfirmEmail, User, 'write'),
    requestEmailConfirmation: rpc('users.request_email_confirmation', 'users', gateway, UserId, EmailConfirmationAccepted, 'write'),
    issueEmailConfirmation: rpc('users.issue_email_confirmation', 'users', ['mail-service'], IssueEmailConfirmation, EmailConfirmationIssued, 'write'),
    update: rpc('users.update', 'users', gateway, UpdateUser, User, 'write'),
    setRole: rpc('users.set_role', 'users', gateway, SetRole, User, 'write'),
    verifyPassword: rpc('users.verify_password', 'users', ['auth-service'], VerifyPassword, User, 'read'),
    setPassword: rpc('users.set_password', 'users', ['auth-service'], SetPassword, Done, 'write'),
    checkPasswordPolicy: rpc('users.check_password_policy', 'users', ['auth-service'], CheckPasswordPolicy, Done, 'read'),
    history: rpc('users.history', 'users', gateway, UserId, History, 'read'),
    emailChange: rpc('users.email_change', 'users', ['mail-service'], EmailChangeRequest, EmailChange, 'read'),
    issueEmailChange: rpc('users.issue_email_change', 'users', ['mail-service'], IssueEmailChange, EmailChangeIssued, 'write'),
    confirmEmailChange: rpc('users.confirm_email_change', 'users', gateway, EmailChangeToken, EmailChangeConfirmed, 'write'),
    cancelEmailChange: rpc('users.cancel_email_change', 'users', ['auth-service'], EmailChangeToken, EmailChangeCancelledReply, 'write'),
    health: rpc('users.health', 'users', gateway, Empty, Health, 'read'),
    requestPasswordReset: rpc('users.request_password_reset', 'users', gateway, RequestPasswordReset, Accepted, 'write'),
    issuePasswordReset: rpc('users.issue_password_reset', 'users', ['mail-service'], IssuePasswordReset, PasswordResetIssued, 'write'),
    resetPassword: rpc('users.reset_password', 'users', ['auth-service'], ResetPassword, PasswordResetDone, 'write'),
    startTotp: rpc('users.start_totp', 'users', gateway, UserId, TotpEnrolment, 'write'),
    confirmTotp: rpc('users.confirm_totp', 'users', gateway, ConfirmTotp, RecoveryCodes, 'write'),
    verifySecondFactor: rpc('users.verify_second_factor', 'users', ['auth-service'], VerifySecondFactor, SecondFactorVerified, 'write'),
    disableMfa: rpc('users.disable_mfa', 'users', ['auth-service'], DisableMfa, MfaDisabledReply, 'write'),
    resetMfa: rpc('users.reset_mfa', 'users', gateway, DisableMfa, MfaDisabledReply, 'write'),
  },
  auth: {
    login: rpc('auth.login', 'auth', gateway, LoginRequest, LoginRpcReply, 'write', fromCurrentState),
    refresh: rpc('auth.refresh', 'auth', gateway, Refresh, SessionTokens, 'write', fromCurrentState),
    logout: rpc('auth.logout', 'auth', gateway, Logout, LogoutReply, 'write'),
    changePassword: rpc('auth.change_password', 'auth', gateway, ChangePassword, PasswordChangeResult, 'write'),
    jwks: rpc('auth.jwks', 'auth', ['gateway', 'users-service'], Empty, Jwks, 'read'),
    health: rpc('auth.health', 'auth', gateway, Empty, Health, 'read'),
    loginMfa: rpc('auth.login_mfa', 'auth', gateway, LoginMfaRequest, LoginTokens, 'write', fromCurrentState),
    resetPassword: rpc('auth.reset_password', 'auth', gateway, ResetPassword, PasswordResetResult, 'write'),
    disableTotp: rpc('auth.disable_totp', 'auth', gateway, DisableTotp, MfaDisabledReply, 'write'),
    // A read: it changes nothing but the throttle's count, so a repeat is safe.
    reauthenticate: rpc('auth.reauthenticate', 'auth', gateway, Reauthenticate, Reauthenticated, 'read'),
    cancelEmailChange: rpc('auth.cancel_email_change', 'auth', gateway, CancelEmailChange, EmailChangeCancelResult, 'write'),
  },
} as const;

export type RpcRequest<R extends Rpc> = z.input<R['request']>;
export type RpcResult<R extends Rpc> = z.infer<R['reply']>;

export const allRpcs = (): Rpc[] => [...Object.values(Rpcs.users), ...Object.values(Rpcs.auth)];
