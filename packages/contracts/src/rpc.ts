import { z } from 'zod';
import { ChangePassword, Jwks, LoginReply, LoginRequest, Logout, LogoutReply, PasswordChangeResult, Refresh, SessionTokens } from './auth/requests.js';
import {
  CheckPasswordPolicy,
  ConfirmEmail,
  Done,
  EmailChange,
  EmailChangeRequest,
  History,
  RegisterUserRequest,
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

/** One request/reply operation: its subject suffix, owner, and both schemas. */
export interface Rpc<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  name: string;
  service: 'users' | 'auth';
  request: Req;
  reply: Res;
}

const rpc = <Req extends z.ZodType, Res extends z.ZodType>(name: string, service: Rpc['service'], request: Req, reply: Res): Rpc<Req, Res> => ({
  name,
  service,
  request,
  reply,
});

/** Every RPC in the system. Callers and handlers both import from here, so they cannot drift. */
export const Rpcs = {
  users: {
    register: rpc('users.register', 'users', RegisterUserRequest, User),
    list: rpc('users.list', 'users', ListUsers, UserPage),
    search: rpc('users.search', 'users', SearchUsers, UserPage),
    get: rpc('users.get', 'users', UserId, User),
    delete: rpc('users.delete', 'users', UserId, User),
    verifyCredentials: rpc('users.verify_credentials', 'users', VerifyCredentials, User),
    confirmEmail: rpc('users.confirm_email', 'users', ConfirmEmail, User),
    requestEmailConfirmation: rpc('users.request_email_confirmation', 'users', UserId, EmailConfirmationAccepted),
    issueEmailConfirmation: rpc('users.issue_email_confirmation', 'users', IssueEmailConfirmation, EmailConfirmationIssued),
    update: rpc('users.update', 'users', UpdateUser, User),
    setRole: rpc('users.set_role', 'users', SetRole, User),
    verifyPassword: rpc('users.verify_password', 'users', VerifyPassword, User),
    setPassword: rpc('users.set_password', 'users', SetPassword, Done),
    checkPasswordPolicy: rpc('users.check_password_policy', 'users', CheckPasswordPolicy, Done),
    history: rpc('users.history', 'users', UserId, History),
    emailChange: rpc('users.email_change', 'users', EmailChangeRequest, EmailChange),
    health: rpc('users.health', 'users', Empty, Health),
  },
  auth: {
    login: rpc('auth.login', 'auth', LoginRequest, LoginReply),
    refresh: rpc('auth.refresh', 'auth', Refresh, SessionTokens),
    logout: rpc('auth.logout', 'auth', Logout, LogoutReply),
    changePassword: rpc('auth.change_password', 'auth', ChangePassword, PasswordChangeResult),
    jwks: rpc('auth.jwks', 'auth', Empty, Jwks),
    health: rpc('auth.health', 'auth', Empty, Health),
  },
} as const;

export type RpcRequest<R extends Rpc> = z.input<R['request']>;
export type RpcResult<R extends Rpc> = z.infer<R['reply']>;

export const allRpcs = (): Rpc[] => [...Object.values(Rpcs.users), ...Object.values(Rpcs.auth)];
