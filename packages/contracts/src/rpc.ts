import { z } from 'zod';
import {
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
  EmailChangeRequest,
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
  ListUsers,
  SearchUsers,
  UserId,
  UserPage,
  VerifyCredentials,
} from './users/requests.js';
import { User } from './users/user.js';

/** The processes that connect to NATS, each with its own credentials. */
export const Services = ['gateway', 'users-service', 'auth-service', 'mail-service'] as const;
export type ServiceName = (typeof Services)[number];

/** One request/reply operation: its subject suffix, owner, who may call it, and both schemas. */
export interface Rpc<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  name: string;
  service: 'users' | 'auth';
  /** The only services allowed to send this request; the NATS permissions are generated from it. */
  callers: readonly ServiceName[];
  request: Req;
  reply: Res;
}

const rpc = <Req extends z.ZodType, Res extends z.ZodType>(
  name: string,
  service: Rpc['service'],
  callers: readonly ServiceName[],
  request: Req,
  reply: Res,
): Rpc<Req, Res> => ({ name, service, callers, request, reply });

/** Who calls what: the gateway the user-facing operations, services the internal ones. */
const gateway = ['gateway'] as const;

/** Every RPC in the system. Callers and handlers both import from here, so they cannot drift. */
export const Rpcs = {
  users: {
    register: rpc('users.register', 'users', gateway, RegisterUserRequest, User),
    list: rpc('users.list', 'users', gateway, ListUsers, UserPage),
    search: rpc('users.search', 'users', gateway, SearchUsers, UserPage),
    get: rpc('users.get', 'users', ['gateway', 'auth-service', 'mail-service'], UserId, User),
    delete: rpc('users.delete', 'users', gateway, UserId, User),
    resolveLogin: rpc('users.resolve_login', 'users', ['auth-service'], ResolveLogin, ResolvedLogin),
    tokenSubject: rpc('users.token_subject', 'users', ['auth-service'], UserId, TokenSubject),
    verifyCredentials: rpc('users.verify_credentials', 'users', ['auth-service'], VerifyCredentials, User),
    confirmEmail: rpc('users.confirm_email', 'users', gateway, ConfirmEmail, User),
    requestEmailConfirmation: rpc('users.request_email_confirmation', 'users', gateway, UserId, EmailConfirmationAccepted),
    issueEmailConfirmation: rpc('users.issue_email_confirmation', 'users', ['mail-service'], IssueEmailConfirmation, EmailConfirmationIssued),
    update: rpc('users.update', 'users', gateway, UpdateUser, User),
    setRole: rpc('users.set_role', 'users', gateway, SetRole, User),
    verifyPassword: rpc('users.verify_password', 'users', ['auth-service'], VerifyPassword, User),
    setPassword: rpc('users.set_password', 'users', ['auth-service'], SetPassword, Done),
    checkPasswordPolicy: rpc('users.check_password_policy', 'users', ['auth-service'], CheckPasswordPolicy, Done),
    history: rpc('users.history', 'users', gateway, UserId, History),
    emailChange: rpc('users.email_change', 'users', ['mail-service'], EmailChangeRequest, EmailChange),
    health: rpc('users.health', 'users', gateway, Empty, Health),
    requestPasswordReset: rpc('users.request_password_reset', 'users', gateway, RequestPasswordReset, Accepted),
    issuePasswordReset: rpc('users.issue_password_reset', 'users', ['mail-service'], IssuePasswordReset, PasswordResetIssued),
    resetPassword: rpc('users.reset_password', 'users', ['auth-service'], ResetPassword, PasswordResetDone),
    startTotp: rpc('users.start_totp', 'users', gateway, UserId, TotpEnrolment),
    confirmTotp: rpc('users.confirm_totp', 'users', gateway, ConfirmTotp, RecoveryCodes),
    verifySecondFactor: rpc('users.verify_second_factor', 'users', ['auth-service'], VerifySecondFactor, SecondFactorVerified),
    disableMfa: rpc('users.disable_mfa', 'users', ['auth-service'], DisableMfa, MfaDisabledReply),
    resetMfa: rpc('users.reset_mfa', 'users', gateway, DisableMfa, MfaDisabledReply),
  },
  auth: {
    login: rpc('auth.login', 'auth', gateway, LoginRequest, LoginRpcReply),
    refresh: rpc('auth.refresh', 'auth', gateway, Refresh, SessionTokens),
    logout: rpc('auth.logout', 'auth', gateway, Logout, LogoutReply),
    changePassword: rpc('auth.change_password', 'auth', gateway, ChangePassword, PasswordChangeResult),
    jwks: rpc('auth.jwks', 'auth', gateway, Empty, Jwks),
    health: rpc('auth.health', 'auth', gateway, Empty, Health),
    loginMfa: rpc('auth.login_mfa', 'auth', gateway, LoginMfaRequest, LoginTokens),
    resetPassword: rpc('auth.reset_password', 'auth', gateway, ResetPassword, PasswordResetResult),
    disableTotp: rpc('auth.disable_totp', 'auth', gateway, DisableTotp, MfaDisabledReply),
  },
} as const;

export type RpcRequest<R extends Rpc> = z.input<R['request']>;
export type RpcResult<R extends Rpc> = z.infer<R['reply']>;

export const allRpcs = (): Rpc[] => [...Object.values(Rpcs.users), ...Object.values(Rpcs.auth)];
