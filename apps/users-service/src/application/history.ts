import type { History, Role } from '@um/contracts';
import { AppError, withTransaction } from '@um/platform';
import { readStream, type StoredEvent } from '../event-store/event-store.js';
import { requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';

type Changes = Record<string, { from: unknown; to: unknown }>;

/**
 * A user's events, newest first, with who did what and, for registrations and updates, each field's
 * value before and after. Secrets never appear (there are none in events). An erased user shows only
 * the tombstone. One's own history, or anyone's for an admin.
 */
export async function userHistory(deps: UsersDeps, userId: string, meta: CallerMeta): Promise<History> {
  const stream = await withTransaction(deps.pool, async (client) => {
    await requireAdmin(client, meta, { self: userId });
    return readStream(client, userId);
  });
  if (!stream.length) throw new AppError('not_found', 'users.not_found', 'User not found');
  const tombstone = stream.find((e) => e.type === 'UserDeleted');
  if (tombstone) return [entry(tombstone, undefined)];

  let role: Role | undefined;
  let verified = false;
  const entries = stream.map((stored) => {
    const e = stored.event!;
    let changes: Changes | undefined;
    switch (e.type) {
      case 'UserRegistered': {
        const { user_id: _id, attributes, ...builtIn } = e.data;
        changes = Object.fromEntries(
          Object.entries({ ...attributes, ...builtIn })
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, { from: null, to: v }]),
        );
        role = e.data.role;
        break;
      }
      case 'UserProfileUpdated':
        changes = e.data.changes;
        if (e.data.changes.email && verified) {
          changes = { ...changes, email_verified: { from: true, to: false } };
          verified = false;
        }
        break;
      case 'UserRoleChanged':
        changes = { role: { from: role ?? null, to: e.data.role } };
        role = e.data.role;
        break;
      case 'EmailConfirmed':
        changes = { email_verified: { from: false, to: true } };
        verified = true;
        break;
      case 'MfaEnabled':
        changes = { mfa: { from: false, to: true } };
        break;
      case 'MfaDisabled':
        changes = { mfa: { from: true, to: false } };
        break;
    }
    return entry(stored, changes);
  });
  return entries.reverse();
}

function entry(stored: StoredEvent, changes: Changes | undefined): History[number] {
  return {
    event_id: stored.eventId,
    type: stored.type,
    version: stored.streamVersion,
    occurred_at: stored.recordedAt.toISOString(),
    actor_id: stored.metadata.actor_id ?? null,
    request_id: stored.metadata.request_id ?? null,
    ...(changes ? { changes } : {}),
  };
}

/** The old and new address of one profile update, for mail-service's notice to the old address. */
export async function emailChange(deps: UsersDeps, eventId: string): Promise<{ user_id: string; old_email: string; new_email: string }> {
  const { rows } = await deps.pool.query<{ stream_id: string }>('SELECT stream_id FROM events WHERE event_id = $1', [eventId]);
  const streamId = rows[0]?.stream_id;
  const stored = streamId ? (await readStream(deps.pool, streamId)).find((e) => e.eventId === eventId) : undefined;
  const change = stored?.event?.type === 'UserProfileUpdated' ? stored.event.data.changes.email : undefined;
  if (!stored || !change) throw new AppError('not_found', 'users.email_change_not_found', 'No such email change');
  return { user_id: stored.streamId, old_email: String(change.from), new_email: String(change.to) };
}
