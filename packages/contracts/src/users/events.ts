import { z } from 'zod';
import { Role } from './user.js';
import { UserIdValue } from './user-id.js';

/**
 * A new account, with the id users-service gave it (so a rebuild reproduces every id). Carries no
 * password and no hash: credentials are stored apart from events. Events stored before ids were
 * integers carry the stream's UUID here; the event store reads them with the id recorded for that
 * stream by migration 1700000000007 (see users-service's event store).
 */
export const UserRegistered = z.object({
  type: z.literal('UserRegistered'),
  data: z.object({
    user_id: UserIdValue,
    username: z.string(),
    email: z.string(),
    fio: z.string().optional(),
    birthday: z.string().optional(),
    tags: z.array(z.string()),
    role: Role,
    /** The declared profile attributes given (see the profile schema). */
    attributes: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** The account was deleted; its tokens are refused from then on. */
export const UserDeleted = z.object({
  type: z.literal('UserDeleted'),
  data: z.object({ user_id: UserIdValue }),
});

export const UserRoleChanged = z.object({
  type: z.literal('UserRoleChanged'),
  data: z.object({ user_id: UserIdValue, role: Role }),
});

/** A confirmation link was asked for (after registration, or again by the user). */
export const EmailConfirmationRequested = z.object({
  type: z.literal('EmailConfirmationRequested'),
  data: z.object({ user_id: UserIdValue }),
});

/** The user followed a valid confirmation link: the address is verified. */
export const EmailConfirmed = z.object({
  type: z.literal('EmailConfirmed'),
  data: z.object({ user_id: UserIdValue }),
});

/** A field's value before and after a change. */
export const FieldChange = z.object({ from: z.unknown(), to: z.unknown() });

/** Profile fields changed by the user or an admin; `changes` holds only the fields that changed. */
export const UserProfileUpdated = z.object({
  type: z.literal('UserProfileUpdated'),
  data: z.object({
    user_id: UserIdValue,
    /** Names of the changed fields, kept readable (no personal data) for the relay and history. */
    fields: z.array(z.string()),
    /** Built-in fields (`username`, `email`, `fio`, `birthday`, `tags`) and declared profile attributes by name. */
    changes: z.record(z.string(), FieldChange),
  }),
});

/** The password was changed (the hash lives in credentials, never in an event). */
export const PasswordChanged = z.object({
  type: z.literal('PasswordChanged'),
  data: z.object({ user_id: UserIdValue }),
});

/** The user (or someone knowing their address) asked for a password reset link; the link is issued by mail-service's request, never stored here. */
export const PasswordResetRequested = z.object({
  type: z.literal('PasswordResetRequested'),
  data: z.object({ user_id: UserIdValue }),
});

/** The password was set through a reset link: every session ends, and the address counts as confirmed. */
export const PasswordReset = z.object({
  type: z.literal('PasswordReset'),
  data: z.object({ user_id: UserIdValue }),
});

/** A TOTP second factor was confirmed and is now asked for at login (the secret is never in an event). */
export const MfaEnabled = z.object({
  type: z.literal('MfaEnabled'),
  data: z.object({ user_id: UserIdValue, method: z.literal('totp') }),
});

/**
 * Who removed a second factor: the user (with a code or a recent sign-in), an admin, or a password
 * reset by email link, which drops a factor enrolled less than MFA_TRUST_AFTER before it.
 */
export const MfaRemovedBy = z.enum(['user', 'admin', 'password_reset']);

/** The second factor was removed (see `MfaRemovedBy`). */
export const MfaDisabled = z.object({
  type: z.literal('MfaDisabled'),
  data: z.object({ user_id: UserIdValue, method: z.literal('totp'), by: MfaRemovedBy }),
});

/**
 * The user asked to change their address: nothing changes until the link sent to the new address is
 * followed; the old address gets a link that cancels it. The new address is kept apart (email_changes),
 * never in an event.
 */
export const EmailChangeRequested = z.object({
  type: z.literal('EmailChangeRequested'),
  data: z.object({ user_id: UserIdValue }),
});

/** The owner cancelled an address change from the old address: `reverted` when it had taken effect and the old address is back. */
export const EmailChangeCancelled = z.object({
  type: z.literal('EmailChangeCancelled'),
  data: z.object({ user_id: UserIdValue, reverted: z.boolean() }),
});

/** Every event of the users stream, as stored and as evolved into state. */
export const UserEvent = z.discriminatedUnion('type', [
  UserRegistered,
  UserDeleted,
  UserRoleChanged,
  EmailConfirmationRequested,
  EmailConfirmed,
  UserProfileUpdated,
  PasswordChanged,
  PasswordResetRequested,
  PasswordReset,
  MfaEnabled,
  MfaDisabled,
  EmailChangeRequested,
  EmailChangeCancelled,
]);
export type UserEvent = z.infer<typeof UserEvent>;
export type UserEventType = UserEvent['type'];

/** Metadata stored with every event. */
export const EventMetadata = z.object({
  request_id: z.string().optional(),
  actor_id: z.string().nullable().optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;
