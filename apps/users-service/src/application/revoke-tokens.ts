import type { UsersDeps } from './deps.js';

/**
 * The fast path of a revocation, right after the change committed. A failure here (NATS away) does
 * not fail the command, which has happened: the relay writes the same revocation when it publishes
 * the event, and retries until it can.
 */
export async function revokeAfterCommit(deps: UsersDeps, userId: number, belowVersion: number): Promise<void> {
  await deps.revokeTokens(userId, belowVersion).catch((err) => deps.log.warn({ err: String(err), user_id: userId }, 'revocation deferred to the relay'));
}
