import { z } from 'zod';
import { Role } from './user.js';

/**
 * Events as published to JetStream: integration contracts, versioned, validated by the publisher
 * and by every consumer. Deliberately thin: ids and non-personal facts only. A consumer that needs
 * personal data asks users-service, which refuses once the user is erased, so no copy of
 * personal data ever sits in the stream.
 */
const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    event_id: z.uuid(),
    type: z.literal(type),
    version: z.literal(1),
    stream_id: z.uuid(),
    stream_version: z.number().int().positive(),
    occurred_at: z.iso.datetime({ offset: true }),
    request_id: z.string().optional(),
    data,
  });

export const PublishedUserRegistered = envelope('UserRegistered', z.object({ user_id: z.uuid(), role: Role }));
export const PublishedUserDeleted = envelope('UserDeleted', z.object({ user_id: z.uuid() }));
export const PublishedUserRoleChanged = envelope('UserRoleChanged', z.object({ user_id: z.uuid(), role: Role }));
export const PublishedEmailConfirmationRequested = envelope('EmailConfirmationRequested', z.object({ user_id: z.uuid() }));
export const PublishedEmailConfirmed = envelope('EmailConfirmed', z.object({ user_id: z.uuid() }));
/** Names of the changed fields only; values stay in users-service (ask `users.email_change` for an address change). */
export const PublishedUserProfileUpdated = envelope('UserProfileUpdated', z.object({ user_id: z.uuid(), fields: z.array(z.string()) }));
export const PublishedPasswordChanged = envelope('PasswordChanged', z.object({ user_id: z.uuid() }));
export const PublishedPasswordResetRequested = envelope('PasswordResetRequested', z.object({ user_id: z.uuid() }));
export const PublishedPasswordReset = envelope('PasswordReset', z.object({ user_id: z.uuid() }));
export const PublishedMfaEnabled = envelope('MfaEnabled', z.object({ user_id: z.uuid() }));
export const PublishedMfaDisabled = envelope('MfaDisabled', z.object({ user_id: z.uuid(), by: z.enum(['user', 'admin']) }));

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
]);
export type PublishedUserEvent = z.infer<typeof PublishedUserEvent>;
