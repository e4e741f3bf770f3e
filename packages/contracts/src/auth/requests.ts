import { z } from 'zod';
import { CurrentPassword, hasNoControlChars, NO_CONTROLS, NO_NUL, Password, text } from '../users/fields.js';
import { User } from '../users/user.js';
import { UserIdValue } from '../users/user-id.js';

/** `POST /login` body (JSON or OAuth2 password form), and the `auth.login` request. */
export const Login = z.object({
  username: text('is required')
    .trim()
    .min(1, 'is required')
    .max(254, 'must be at most 254 characters')
    .refine(hasNoControlChars, 'must not contain control characters')
    .meta({ pattern: NO_CONTROLS }),
  password: text('is required')
    .min(1, 'is required')
    .max(1024, 'must be at most 1024 characters')
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .meta({ pattern: NO_NUL }),
  grant_type: z.literal('password', { error: 'must be "password"' }).optional(),
});
export type Login = z.infer<typeof Login>;

/**
 * `POST /login` body: `username` (which may be an email), or `email` as spec 001's clients send it.
 * With both (a client posting its whole registration object, as `POST /login` always allowed), the
 * username is the login name.
 */
export const LoginBody = Login.extend({ username: Login.shape.username.optional(), email: Login.shape.username.optional() })
  .refine((b) => b.username !== undefined || b.email !== undefined, { message: 'is required (or email)', path: ['username'] })
  .transform(({ email, username, ...rest }) => ({ ...rest, username: (username ?? email)!, by_email: username === undefined }));

/** `auth.login`: the HTTP body plus what the gateway knows about the client (its address, its device cookie). */
export const LoginRequest = Login.extend({ client_ip: z.string().max(64).optional(), device_token: z.string().max(200).optional() });
export type LoginRequest = z.infer<typeof LoginRequest>;

/** OAuth2-style token reply: a short-lived access token and the session's next refresh token. */
export const SessionTokens = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int().positive(),
  refresh_token: z.string(),
});
export type SessionTokens = z.infer<typeof SessionTokens>;

/** `POST /login` reply: the tokens and the user they belong to. */
export const LoginReply = SessionTokens.extend({ user: User });
export type LoginReply = z.infer<typeof LoginReply>;
/** A login's tokens as auth-service answers them: the HTTP reply plus the device cookie the gateway sets (never in the body). */
export const LoginTokens = LoginReply.extend({ device_token: z.string() });
export type LoginTokens = z.infer<typeof LoginTokens>;

/**
 * The password was right and a second factor is active: no tokens yet, but a short-lived,
 * single-use ticket bound to the account, to be sent with a code to `POST /login/mfa`.
 */
export const MfaChallenge = z.object({ status: z.literal('mfa_required'), mfa_ticket: z.string(), expires_in: z.number().int().positive() });
export type MfaChallenge = z.infer<typeof MfaChallenge>;

/** `auth.login` reply: tokens, or the second-factor challenge (the gateway answers that as a 401 `mfa_required`). */
export const LoginRpcReply = z.union([LoginTokens, MfaChallenge]);
export type LoginRpcReply = z.infer<typeof LoginRpcReply>;

/** `POST /login/mfa` body: the ticket from the `mfa_required` answer and a TOTP or recovery code. */
export const LoginMfa = z.object({
  ticket: text('is required').min(1, 'is required').max(200, 'is too long'),
  code: text('is required').trim().min(1, 'is required').max(32, 'is too long').refine(hasNoControlChars, 'must not contain control characters').meta({ pattern: NO_CONTROLS }),
});
/** `auth.login_mfa`: the body plus the client's address and device cookie, as for `auth.login`. */
export const LoginMfaRequest = LoginMfa.extend({ client_ip: z.string().max(64).optional(), device_token: z.string().max(200).optional() });

/** `auth.reset_password` reply. */
export const PasswordResetResult = z.object({ status: z.literal('reset'), sessions_ended: z.number().int().nonnegative() });

/** `DELETE /users/me/mfa/totp` body: a current code, or `{}` within the reauthentication window after a login. */
export const DisableTotpBody = z.object({
  code: text().trim().min(1, 'is required').max(32, 'is too long').refine(hasNoControlChars, 'must not contain control characters').meta({ pattern: NO_CONTROLS }).optional(),
});
/** `auth.disable_totp`: the body plus who is asking and from which session. */
export const DisableTotp = DisableTotpBody.extend({ user_id: UserIdValue, session_id: z.uuid() });

/** `POST /refresh` body, and the `auth.refresh` request. */
export const Refresh = z.object({ refresh_token: text('is required').min(1, 'is required').max(200, 'is too long') });

/** `auth.logout`: end the caller's session, or all of their sessions. */
export const Logout = z.object({ user_id: UserIdValue, session_id: z.uuid(), all: z.boolean().default(false) });
export const LogoutReply = z.object({ sessions_ended: z.number().int().nonnegative() });

/** `PUT /users/me/password` body. */
export const ChangePasswordBody = z.object({
  current_password: CurrentPassword,
  new_password: Password,
});

/**
 * The optional part of a body for what hands over the account (a new email, a second factor, the
 * account's deletion): the current password, needed unless the session comes from a sign-in within
 * the reauthentication window (`REAUTH_WINDOW`).
 */
export const ReauthenticationBody = z.object({ current_password: CurrentPassword.optional() });

/** `auth.reauthenticate`: is the caller present? A recent sign-in of the session, or the current password (throttled). */
export const Reauthenticate = ReauthenticationBody.extend({ user_id: UserIdValue, session_id: z.uuid() });
export const Reauthenticated = z.object({ status: z.literal('ok') });

/** `auth.cancel_email_change`: the token of the link sent to the old address. */
export const CancelEmailChange = z.object({ token: z.string().min(1).max(200) });
export const EmailChangeCancelResult = z.object({ status: z.literal('cancelled'), sessions_ended: z.number().int().nonnegative() });
/**
 * `auth.change_password`: the body plus who is asking and from which session. Without
 * `current_password` (spec 003's `PUT /users`) the session must come from a login within the
 * reauthentication window.
 */
export const ChangePassword = ChangePasswordBody.extend({ current_password: ChangePasswordBody.shape.current_password.optional(), user_id: UserIdValue, session_id: z.uuid() });
export const PasswordChangeResult = z.object({ status: z.literal('changed'), sessions_ended: z.number().int().nonnegative() });

/** A public verification key (JWK) as published by auth-service. */
export const PublicJwk = z.looseObject({ kid: z.string(), kty: z.string(), alg: z.string(), use: z.literal('sig').optional() });
export const Jwks = z.object({ keys: z.array(PublicJwk) });
export type Jwks = z.infer<typeof Jwks>;
