import { randomBytes } from 'node:crypto';
import type { EmailChangeIssued } from '@um/contracts';
import { AppError, sha256, withTransaction } from '@um/platform';
import { readEvent } from '../event-store/event-store.js';
import { userByEmail, userById } from '../read-model/users-repository.js';
import {
  changeToCancel,
  changeToConfirm,
  closeEmailChange,
  closePendingEmailChanges,
  markEmailChangeConfirmed,
  openChangeOfRequest,
  ownerOfLink,
  setEmailChangeLinks,
} from '../repository/email-changes.js';
import { dropResetLinks } from '../repository/password-resets.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { revokeAfterCommit } from './revoke-tokens.js';

/** One answer for unknown, used, expired and replaced links: a link reveals nothing about why it fails. */
const invalidLink = () => new AppError('bad_request', 'users.email_change_link_invalid', 'This link is invalid, already used or expired');

const newToken = () => {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
};

/**
 * mail-service asks for the links of one `EmailChangeRequested` event: a confirmation link for the
 * new address and a cancel link for the old one. Only a still-open request gets them (a later one,
 * or a cancel, closed it). A new address that another account holds is closed here: that address's
 * owner is told by mail, the requester learns nothing from the reply they already had.
 */
export async function issueEmailChange(deps: UsersDeps, eventId: string): Promise<EmailChangeIssued> {
  const request = await readEvent(deps.pool, eventId);
  if (request?.type !== 'EmailChangeRequested') throw new AppError('not_found', 'users.email_change_not_found', 'No such address change');
  // An erased request belongs to a deleted user.
  if (!request.event) return { status: 'superseded' };
  const userId = request.event.data.user_id;
  const now = deps.clock();
  return withTransaction(deps.pool, async (client) => {
    const change = await openChangeOfRequest(client, userId, request.streamVersion);
    if (!change) return { status: 'superseded' as const };
    const holder = await userByEmail(client, change.new_email);
    if (holder && holder.id !== userId) {
      await closeEmailChange(client, change.id, now);
      return { status: 'taken' as const, new_email: change.new_email };
    }
    const confirm = newToken();
    const cancel = newToken();
    const confirmExpiresAt = new Date(now.getTime() + deps.emailConfirmation.ttlSeconds * 1000);
    const cancelExpiresAt = new Date(now.getTime() + deps.emailChange.cancelTtlSeconds * 1000);
    await setEmailChangeLinks(client, change.id, { confirmHash: confirm.hash, confirmExpiresAt, cancelHash: cancel.hash, cancelExpiresAt });
    return {
      status: 'issued' as const,
      user_id: userId,
      old_email: change.old_email,
      new_email: change.new_email,
      confirm_token: confirm.token,
      confirm_expires_at: confirmExpiresAt.toISOString(),
      cancel_token: cancel.token,
      cancel_expires_at: cancelExpiresAt.toISOString(),
    };
  });
}

/**
 * The link sent to the new address: the account takes it, verified (following the link proved it),
 * provided the account still has the address the change started from. Unused reset links die with
 * the old address.
 */
export async function confirmEmailChange(deps: UsersDeps, token: string, meta: CallerMeta): Promise<{ status: 'confirmed' }> {
  const hash = sha256(token);
  const userId = await ownerOfLink(deps.pool, 'confirm_hash', hash);
  if (!userId) throw invalidLink();
  const command = (_: number, change: { id: string; new_email: string }) => ({ type: 'ConfirmEmailChange' as const, data: { user_id: userId, email: change.new_email } });
  return handleCommand(
    deps,
    { userId },
    command,
    { ...meta, actorId: String(userId) },
    {
      prepare: async (client) => {
        const now = deps.clock();
        const change = await changeToConfirm(client, hash, now);
        if (!change) throw invalidLink();
        // The address changed another way since (an admin): this change no longer applies.
        if ((await userById(client, userId))?.email !== change.old_email) {
          await closeEmailChange(client, change.id, now);
          throw invalidLink();
        }
        return change;
      },
      after: async (client, _stored, change) => {
        await markEmailChangeConfirmed(client, change.id, deps.clock());
        await dropResetLinks(client, userId);
        return { status: 'confirmed' as const };
      },
    },
  );
}

/**
 * The link sent to the old address: the owner cancels the change, or takes the old address back if it
 * was made. Every token of the user is refused from then on (auth-service ends the sessions), and
 * every unused reset link dies: whoever asked for the change keeps nothing of the account.
 */
export async function cancelEmailChange(deps: UsersDeps, token: string, meta: CallerMeta): Promise<{ user_id: number; reverted: boolean }> {
  const hash = sha256(token);
  const userId = await ownerOfLink(deps.pool, 'cancel_hash', hash);
  if (!userId) throw invalidLink();
  const command = (_: number, change: { old_email: string; old_verified: boolean; new_email: string; confirmed_at: Date | null }) => ({
    type: 'CancelEmailChange' as const,
    data: { user_id: userId, oldEmail: change.old_email, oldVerified: change.old_verified, revertFrom: change.confirmed_at ? change.new_email : undefined },
  });
  const { reverted, version } = await handleCommand(
    deps,
    { userId },
    command,
    { ...meta, actorId: String(userId) },
    {
      prepare: async (client) => {
        const change = await changeToCancel(client, hash, deps.clock());
        if (!change) throw invalidLink();
        return change;
      },
      after: async (client, stored, change) => {
        const now = deps.clock();
        await closeEmailChange(client, change.id, now);
        await closePendingEmailChanges(client, userId, now);
        await dropResetLinks(client, userId);
        const cancelled = stored.find((e) => e.type === 'EmailChangeCancelled');
        return { reverted: cancelled?.event?.type === 'EmailChangeCancelled' && cancelled.event.data.reverted, version: stored.at(-1)!.streamVersion };
      },
      reply: ({ reverted }) => ({ user_id: userId, reverted }),
    },
  );
  await revokeAfterCommit(deps, userId, version);
  return { user_id: userId, reverted };
}
