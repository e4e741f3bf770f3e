import { z } from 'zod';
import { MfaRemovedBy } from './events.js';
import { Role } from './user.js';
import { UserIdValue } from './user-id.js';

/**
 * Events as published to JetStream: integration contracts, versioned, validated by the publisher
 * and by every consumer. Deliberately thin: ids and non-personal facts only. A consumer that needs
 * personal data asks users-service, which refuses once the user is erased, so no copy of
 * personal data ever sits in the stream. The user is named by their API id; the internal stream
 * key never leaves users-service.
 */
const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    event_id: z.uuid(),
    type: z.literal(type),
    /** 2 since user ids are integers (1 carried the stream's UUID as `user_id` and `stream_id`). */
    version: z.literal(2),
    /** The user's authorization version after this event. */
    stream_version: z.number().int().positive(),
    occurred_at: z.iso.datetime({ offset: true }),
    request_id: z.string().optional(),
    data,
  });

export const PublishedUserRegistered = envelope('UserRegistered', z.object({ user_id: UserIdValue, role: Role }));
export const PublishedUserDeleted = envelope('UserDeleted', z.object({ user_id: UserIdValue }));
export const PublishedUserRoleChanged = envelope('UserRoleChanged', z.object({ user_id: UserIdValue, role: Role }));
export const PublishedEmailConfirmationRequested = envelope('EmailConfirmationRequested', z.object({ user_id: UserIdValue }));
export const PublishedEmailConfirmed = envelope('EmailConfirmed', z.object({ user_id: UserIdValue }));
/** Names of the changed fields only; values stay in users-service (ask `users.email_change` for an address change). */
export const PublishedUserProfileUpdated = envelope('UserProfileUpdated', z.object({ user_id: UserIdValue, fields: z.array(z.string()) }));
export const PublishedPasswordChanged = envelope('PasswordChanged', z.object({ user_id: UserIdValue }));
export const PublishedPasswordResetRequested = envelope('PasswordResetRequested', z.object({ user_id: UserIdValue }));
export const PublishedPasswordReset = envelope('PasswordReset', z.object({ user_id: UserIdValue }));
export const PublishedMfaEnabled = envelope('MfaEnabled', z.object({ user_id: UserIdValue }));
export const PublishedMfaDisabled = envelope('MfaDisabled', z.object({ user_id: UserIdValue, by: MfaRemovedBy }));
/** The addresses stay in users-service: mail-service asks `users.issue_email_change` for them and the links. */
export const PublishedEmailChangeRequested = envelope('EmailChangeRequested', z.object({ user_id: UserIdValue }));
export const PublishedEmailChangeCancelled = envelope('EmailChangeCancelled', z.object({ user_id: UserIdValue, reverted: z.boolean() }));

export const PublishedUserEvent = z.discriminatedUnion('type', [
  PublishedUserRegistered,
  PublishedUserDeleted,
  PublishedUserRoleChanged,
  PublishedEmailConfirmationRequested,
  PublishedEmailConfirmed,
  PublishedUserProfileUpdated,
  PublishedPasswordChanged,
  PublishedPasswordResetRequested,
  PublishedPasswordReset,
  PublishedMfaEnabled,
  PublishedMfaDisabled,
  PublishedEmailChangeRequested,
  PublishedEmailChangeCancelled,
]);
export type PublishedUserEvent = z.infer<typeof PublishedUserEvent>;
