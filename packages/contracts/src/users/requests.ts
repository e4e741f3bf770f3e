import { z } from 'zod';
import { Birthday, DateString, Email, Fio, hasNoControlChars, NO_CONTROLS, Password, Tags, text, Username } from './fields.js';
import { Role, User } from './user.js';
import { UserIdValue } from './user-id.js';

/** `POST /register` body. */
export const RegisterUser = z.object({
  username: Username,
  email: Email,
  password: Password,
  fio: Fio,
  birthday: Birthday,
  tags: Tags.default([]),
});
export type RegisterUser = z.infer<typeof RegisterUser>;

/** `POST /users` body: an admin creates a user, choosing the role. */
export const CreateUser = RegisterUser.extend({ role: Role.default('user') });

/**
 * `users.register` request: a registration or an admin's creation; `client_ip` rate-limits
 * self-registration. Without `username` one is derived from the email; `fio` and `birthday` may be
 * absent (old APIs have neither); `attributes` are the declared profile attributes, which
 * users-service validates against its profile schema.
 */
export const RegisterUserRequest = RegisterUser.extend({
  username: Username.optional(),
  fio: Fio.optional(),
  birthday: Birthday.optional(),
  role: Role.default('user'),
  client_ip: z.string().max(64).optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type RegisterUserRequest = z.infer<typeof RegisterUserRequest>;

/** The built-in fields a profile update may change. */
export const UpdateUserFields = z.object({ username: Username, email: Email, fio: Fio, birthday: Birthday, tags: Tags });

/** `PATCH /users/{id}` body: any of the profile fields, validated as at registration. */
export const UpdateUserBody = UpdateUserFields.partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'must change at least one of username, email, fio, birthday, tags');
/** `users.update`: the built-in changes, and the declared attributes' (`null` clears one), which users-service validates against its profile schema. */
export const UpdateUser = z.object({
  user_id: UserIdValue,
  changes: UpdateUserFields.partial()
    .extend({ attributes: z.record(z.string(), z.unknown()).optional() })
    .strict(),
});
export type UpdateUser = z.infer<typeof UpdateUser>;

/** `PUT /users/{id}/role` body, and the `users.set_role` request. */
export const SetRoleBody = z.object({ role: Role });
export const SetRole = z.object({ user_id: UserIdValue, role: Role });

/** `users.verify_password`: check a user's current password (password change). */
export const VerifyPassword = z.object({ user_id: UserIdValue, password: text().max(1024) });
/** `users.set_password`: store a new password hash. */
export const SetPassword = z.object({ user_id: UserIdValue, password: Password });
/** `users.check_password_policy`: would this be an acceptable new password for the user? (Cheap: no hashing.) */
export const CheckPasswordPolicy = SetPassword;
export const Done = z.object({ status: z.literal('ok') });

/** One entry of `GET /users/{id}/history`. */
export const HistoryEntry = z.object({
  event_id: z.uuid(),
  type: z.string(),
  version: z.number().int(),
  occurred_at: z.iso.datetime({ offset: true }),
  /** Who did it: a user id, or null for the system (or an actor erased before ids were integers). */
  actor_id: UserIdValue.nullable(),
  request_id: z.string().nullable(),
  /** For registrations and updates: each field's value before and after (never a secret). */
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
});
export const History = z.array(HistoryEntry);
export type History = z.infer<typeof History>;

/** `users.email_change`: the old and new address of one profile update (for mail-service). */
export const EmailChangeRequest = z.object({ event_id: z.uuid() });
export const EmailChange = z.object({ user_id: UserIdValue, old_email: z.string(), new_email: z.string() });

/** `users.issue_email_change`: mail-service asks for the links of one `EmailChangeRequested` event. */
export const IssueEmailChange = EmailChangeRequest;
export const EmailChangeIssued = z.discriminatedUnion('status', [
  /** A link that makes the change, for the new address; one that cancels it, for the old one. */
  z.object({
    status: z.literal('issued'),
    user_id: UserIdValue,
    old_email: z.string(),
    new_email: z.string(),
    confirm_token: z.string(),
    confirm_expires_at: z.iso.datetime({ offset: true }),
    cancel_token: z.string(),
    cancel_expires_at: z.iso.datetime({ offset: true }),
  }),
  /** Another account has the new address: its owner is told, the requester is not. */
  z.object({ status: z.literal('taken'), new_email: z.string() }),
  /** A later request replaced this one, it was cancelled, or the account is gone. */
  z.object({ status: z.literal('superseded') }),
]);
export type EmailChangeIssued = z.infer<typeof EmailChangeIssued>;

/** `GET /email-change/confirm` and `GET /email-change/cancel` query: the token of the link. */
export const EmailChangeToken = z.object({ token: text('is required').min(1, 'is required').max(200, 'is too long') });
export const EmailChangeConfirmed = z.object({ status: z.literal('confirmed') });
/** `users.cancel_email_change` reply: whose change it was (auth-service then ends every session). */
export const EmailChangeCancelledReply = z.object({ user_id: UserIdValue, reverted: z.boolean() });

/** Where the next page starts: opaque, from the `Link: rel="next"` of the page before. */
export const PageCursor = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'is not a cursor from a Link header')
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor from a Link header');

/**
 * Paging: `cursor` (from `Link: rel="next"`; every page costs what the first costs) or `offset`
 * (old clients). Without `limit` a page holds up to MAX_PAGE_SIZE users.
 */
export const PageQuery = z.object({
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
  offset: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(1_000_000_000).default(0),
  cursor: PageCursor.optional(),
});

/** `GET /users` query, and the `users.list` request. */
export const ListUsers = PageQuery;
export type ListUsers = z.infer<typeof ListUsers>;

const Needle = text()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine(hasNoControlChars, 'must not contain control characters')
  .meta({ pattern: NO_CONTROLS });

/** `GET /users/search` query, and the `users.search` request. Every filter is optional; all given ones must match. */
export const SearchUsers = PageQuery.extend({
  username: Needle.optional(),
  email: Needle.optional(),
  fio: Needle.optional(),
  birthday: DateString.optional(),
  tags: Tags.optional(),
});
export type SearchUsers = z.infer<typeof SearchUsers>;

/** `users.search`: the built-in filters and those on searchable declared attributes (validated by users-service against its profile schema). */
export const SearchUsersRequest = SearchUsers.extend({ attributes: z.record(z.string(), z.unknown()).default({}) });
export type SearchUsersRequest = z.infer<typeof SearchUsersRequest>;

/**
 * A page of users. `total` counts every match, exactly when `total_exact` (up to EXACT_COUNT_LIMIT
 * matches), else the planner's estimate; `next_cursor` continues after this page (null: the last).
 */
export const UserPage = z.object({
  items: z.array(User),
  total: z.number().int().nonnegative(),
  total_exact: z.boolean().default(true),
  /** The page size used: the caller's `limit`, or MAX_PAGE_SIZE without one. */
  limit: z.number().int().positive().optional(),
  next_cursor: z.string().nullable().default(null),
});
export type UserPage = z.infer<typeof UserPage>;

/** An RPC about one user, named by id. */
export const UserId = z.object({ user_id: UserIdValue });
export type UserId = z.infer<typeof UserId>;

/**
 * `users.legacy_ids`: the ids of users that auth-service still knows by the UUID it stored before ids
 * were integers (their internal stream key). Only for rows from before that upgrade; nothing else
 * carries a stream key between services.
 */
export const LegacyUserIdsRequest = z.object({ stream_ids: z.array(z.uuid()).min(1).max(100) });
/** Each UUID users-service knows, with the user's id and whether the user has been deleted since; UUIDs it never knew are left out. */
export const LegacyUserIds = z.object({ users: z.array(z.object({ stream_id: z.uuid(), user_id: UserIdValue, deleted: z.boolean() })) });

/** `users.verify_credentials`: the password check, done where the hash lives. */
export const VerifyCredentials = z.object({
  username: text().max(254),
  password: text().max(1024),
});
export type VerifyCredentials = z.infer<typeof VerifyCredentials>;

/**
 * `users.token_subject`: what goes into an access token, read in one row: the role and the
 * authorization version it belongs to (auth-service asks right before signing).
 */
export const TokenSubject = z.object({
  user_id: UserIdValue,
  role: Role,
  authz_version: z.number().int().nonnegative(),
  /** A second factor is active: a password alone does not open a session. */
  mfa: z.boolean().default(false),
  /** Last password reset (ISO), if any: sessions opened before it are over, even if ending them was interrupted. */
  password_reset_at: z.iso.datetime({ offset: true }).nullable().default(null),
});
export type TokenSubject = z.infer<typeof TokenSubject>;

/**
 * `users.resolve_login`: the account a login name (username or email) stands for, if any. Failures
 * are counted per name as typed (`loginNameKey`), not per account: this only ties a counter to its
 * user (erased with them) and a device cookie to its account.
 */
export const ResolveLogin = z.object({ login: z.string().max(254) });
export const ResolvedLogin = z.object({ user_id: UserIdValue.nullable() });

/** `GET /confirm-email?token=…` query, and the `users.confirm_email` request. */
export const ConfirmEmail = z.object({
  token: z.string({ error: 'is required' }).min(1, 'is required').max(200, 'is too long'),
});
export type ConfirmEmail = z.infer<typeof ConfirmEmail>;

/** `GET /confirm-email` answer: only the outcome, never the user (confirmation links get forwarded). */
export const EmailConfirmationResult = z.object({ status: z.literal('confirmed') });
export type EmailConfirmationResult = z.infer<typeof EmailConfirmationResult>;

/** Ask for a fresh confirmation link (rate-limited); answered 202, the mail follows. */
export const EmailConfirmationAccepted = z.object({ status: z.literal('accepted') });

/** `users.issue_email_confirmation`: mail-service asks for a single-use token for an address. */
export const IssueEmailConfirmation = z.object({ email: z.string().min(3).max(254) });
export const EmailConfirmationIssued = z.discriminatedUnion('status', [
  z.object({ status: z.literal('issued'), user_id: UserIdValue, token: z.string(), expires_at: z.iso.datetime({ offset: true }) }),
  z.object({ status: z.literal('already_verified'), user_id: UserIdValue }),
]);
export type EmailConfirmationIssued = z.infer<typeof EmailConfirmationIssued>;

export const Empty = z.object({});
export const Health = z.object({ service: z.string(), status: z.literal('ok') });

export { Role, User };

const LoginName = text('is required')
  .trim()
  .min(1, 'is required')
  .max(254, 'must be at most 254 characters')
  .refine(hasNoControlChars, 'must not contain control characters')
  .meta({ pattern: NO_CONTROLS });

/** `POST /password/forgot` body: the account's email address or its username. */
export const ForgotPasswordBody = z
  .object({ email: LoginName.optional(), username: LoginName.optional() })
  .strict()
  .refine((b) => (b.email === undefined) !== (b.username === undefined), { message: 'give either email or username', path: ['email'] });
export type ForgotPasswordBody = z.infer<typeof ForgotPasswordBody>;

/** `users.request_password_reset`: the login name as typed, and the client's address for its rate limit. */
export const RequestPasswordReset = z.object({ login: z.string().max(254), client_ip: z.string().max(64).optional() });
/** The same answer whether or not an account has that name: the mail (if any) follows. */
export const Accepted = z.object({ status: z.literal('accepted') });

/** `users.issue_password_reset`: mail-service asks for the link of one `PasswordResetRequested` event. */
export const IssuePasswordReset = z.object({ event_id: z.uuid() });
export const PasswordResetIssued = z.discriminatedUnion('status', [
  z.object({ status: z.literal('issued'), user_id: UserIdValue, email: z.string(), token: z.string(), expires_at: z.iso.datetime({ offset: true }) }),
  /** A later request replaced this one (its own mail carries the live link), or the account is gone. */
  z.object({ status: z.literal('superseded') }),
  /** The address was never confirmed: no reset link goes to it (it gets a confirmation link instead). */
  z.object({ status: z.literal('unverified'), user_id: UserIdValue, email: z.string() }),
]);
export type PasswordResetIssued = z.infer<typeof PasswordResetIssued>;

/** `POST /password/reset` body, and the `auth.reset_password` request. */
export const ResetPasswordBody = z.object({
  token: text('is required').min(1, 'is required').max(200, 'is too long'),
  password: Password,
});
/** `users.reset_password`: spend the token and store the new password; answers whose it was. */
export const ResetPassword = ResetPasswordBody;
export const PasswordResetDone = z.object({ user_id: UserIdValue });

/** A six-digit TOTP code, or a recovery code (`xxxxx-xxxxx`), as typed. */
export const SecondFactorCode = text('is required')
  .trim()
  .min(1, 'is required')
  .max(32, 'is too long')
  .refine(hasNoControlChars, 'must not contain control characters')
  .meta({ pattern: NO_CONTROLS });

/** `POST /users/me/mfa/totp` reply: what an authenticator app needs; nothing is active until confirmed. */
export const TotpEnrolment = z.object({
  secret: z.string().describe('Base32 secret, for typing into an authenticator app'),
  otpauth_uri: z.string().describe('otpauth://totp/… URI (RFC 6238: SHA-1, 6 digits, 30 s)'),
  qr_code: z.string().describe('The URI as a QR code, an SVG data URI'),
});
export type TotpEnrolment = z.infer<typeof TotpEnrolment>;

/** `POST /users/me/mfa/totp/confirm` body. */
export const ConfirmTotpBody = z.object({ code: SecondFactorCode });
export const ConfirmTotp = ConfirmTotpBody.extend({ user_id: UserIdValue });
/** Ten single-use recovery codes, shown once (only their hashes are kept). */
export const RecoveryCodes = z.object({ recovery_codes: z.array(z.string()) });

/** `users.verify_second_factor`: check a TOTP or recovery code of a user (auth-service throttles the calls). */
export const VerifySecondFactor = z.object({ user_id: UserIdValue, code: SecondFactorCode });
export const SecondFactorVerified = z.object({ method: z.enum(['totp', 'recovery_code']) });

/** `users.disable_mfa` (auth-service, for the user) and `users.reset_mfa` (gateway, admins). */
export const DisableMfa = z.object({ user_id: UserIdValue });
export const MfaDisabledReply = z.object({ status: z.literal('disabled') });
