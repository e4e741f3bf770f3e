import type { History, UserEvent } from '@um/contracts';
import { isUserIdString } from '@um/contracts';
import { AppError, withTransaction, type PoolClient } from '@um/platform';
import { evolve, initialState, type UserState } from '../domain/user.js';
import { readEvent, readStream, streamOf, userIdsOfStreams, type StoredEvent } from '../event-store/event-store.js';
import { requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';

type Changes = Record<string, { from: unknown; to: unknown }>;

/**
 * A user's events, newest first, with who did what and, for registrations and updates, each field's
 * value before and after. Secrets never appear (there are none in events). An erased user shows only
 * the tombstone. One's own history, or anyone's for an admin.
 */
export async function userHistory(deps: UsersDeps, userId: number, meta: CallerMeta): Promise<History> {
  const { stream, actors } = await withTransaction(deps.pool, async (client) => {
    await requireAdmin(client, meta, { self: userId });
    const streamId = await streamOf(client, userId);
    const events = streamId ? await readStream(client, streamId) : [];
    return { stream: events, actors: await actorIds(client, events) };
  });
  if (!stream.length) throw new AppError('not_found', 'users.not_found', 'User not found');
  const entry = (stored: StoredEvent, changes: Changes | undefined) => toEntry(stored, changes, actors);
  const tombstone = stream.find((e) => e.type === 'UserDeleted');
  if (tombstone) return [entry(tombstone, undefined)];

  // Each entry's "from" is the state the events before it folded to.
  let state: UserState = initialState;
  const entries = stream.map((stored) => {
    const e = stored.event!;
    const before = state;
    state = evolve(state, e, stored.recordedAt);
    return entry(stored, changesOf(e, before));
  });
  return entries.reverse();
}

/** What one event changed, field by field, given the state before it; undefined for events that change no shown field. */
function changesOf(e: UserEvent, before: UserState): Changes | undefined {
  const active = before.status === 'active' ? before : undefined;
  switch (e.type) {
    case 'UserRegistered': {
      const { user_id: _id, attributes, ...builtIn } = e.data;
      return Object.fromEntries(
        Object.entries({ ...attributes, ...builtIn })
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, { from: null, to: v }]),
      );
    }
    case 'UserProfileUpdated':
      return e.data.changes.email && active?.emailVerified ? { ...e.data.changes, email_verified: { from: true, to: false } } : e.data.changes;
    case 'UserRoleChanged':
      return { role: { from: active?.role ?? null, to: e.data.role } };
    case 'EmailConfirmed':
      return { email_verified: { from: false, to: true } };
    case 'MfaEnabled':
      return { mfa: { from: false, to: true } };
    case 'MfaDisabled':
      return { mfa: { from: true, to: false } };
    default:
      return undefined;
  }
}

/**
 * Who acted, as user ids. Metadata records the actor as the caller's id header: a decimal id, or
 * (events from before ids were integers) the actor's stream UUID, read with the id recorded for it.
 */
async function actorIds(client: PoolClient, events: StoredEvent[]): Promise<Map<string, number>> {
  const raw = [...new Set(events.map((e) => e.metadata.actor_id).filter((a): a is string => typeof a === 'string'))];
  const ids = new Map<string, number>(raw.filter(isUserIdString).map((a) => [a, Number(a)]));
  const legacy = raw.filter((a) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(a));
  if (legacy.length) for (const [streamId, id] of await userIdsOfStreams(client, legacy)) ids.set(streamId, id);
  return ids;
}

function toEntry(stored: StoredEvent, changes: Changes | undefined, actors: Map<string, number>): History[number] {
  return {
    event_id: stored.eventId,
    type: stored.type,
    version: stored.streamVersion,
    occurred_at: stored.recordedAt.toISOString(),
    actor_id: actors.get(stored.metadata.actor_id ?? '') ?? null,
    request_id: stored.metadata.request_id ?? null,
    ...(changes ? { changes } : {}),
  };
}

/** The old and new address of one profile update, for mail-service's notice to the old address. */
export async function emailChange(deps: UsersDeps, eventId: string): Promise<{ user_id: number; old_email: string; new_email: string }> {
  const stored = await readEvent(deps.pool, eventId);
  const update = stored?.event?.type === 'UserProfileUpdated' ? stored.event : undefined;
  const change = update?.data.changes.email;
  if (!update || !change) throw new AppError('not_found', 'users.email_change_not_found', 'No such email change');
  return { user_id: update.data.user_id, old_email: String(change.from), new_email: String(change.to) };
}
