import type { PublishedUserEvent } from '@um/contracts';
import { ALL_VERSIONS } from '@um/platform';

/**
 * The revocation a published event implies: a role change, a password reset or a cancelled address change refuses the user's
 * tokens below the event's version, a deletion every token. Written again by the relay (at least once, in order) so
 * a crash between a command's commit and its fast-path revocation cannot leave old tokens alive.
 */
export async function revokeFor(event: PublishedUserEvent, revoke: (userId: number, belowVersion: number) => Promise<void>): Promise<void> {
  if (event.type === 'UserRoleChanged' || event.type === 'PasswordReset' || event.type === 'EmailChangeCancelled') await revoke(event.data.user_id, event.stream_version);
  else if (event.type === 'UserDeleted') await revoke(event.data.user_id, ALL_VERSIONS);
}
