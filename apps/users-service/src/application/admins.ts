import { isUserIdString } from '@um/contracts';
import { AppError, type PoolClient } from '@um/platform';
import { roleOf } from '../read-model/users-repository.js';
import type { CallerMeta } from './deps.js';

/**
 * Who is an admin is decided under one advisory lock: role changes and deletions take it exclusively,
 * every privileged command shared. A privileged command therefore sees the actor's role as of after
 * any role change that committed before it, and a demotion waits for the admin's commands in flight.
 */
const ADMINS_LOCK = "hashtextextended('users.admins', 0)";

/**
 * Take the admins lock exclusively (role changes, deletions) for the rest of the transaction. The
 * count of other admins the decider's last-admin rule gets is read under it, so two admins demoting
 * each other at once cannot both succeed.
 */
export async function lockAdmins(client: PoolClient): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${ADMINS_LOCK})`);
}

/**
 * A privileged command: the actor must be an admin now, in this service's own data, not merely
 * according to the role claim the gateway saw in a token (which may predate a demotion). With
 * `self`, acting on one's own account needs no admin. Commands from the service itself (start-up)
 * carry `system`. `exclusive` says the caller already holds the admins lock exclusively.
 */
export async function requireAdmin(client: PoolClient, meta: CallerMeta, opts: { self?: number; exclusive?: boolean } = {}): Promise<void> {
  if (meta.system) return;
  if (opts.self !== undefined && meta.actorId === String(opts.self)) return;
  if (!meta.actorId) throw new AppError('permission_denied', 'users.actor_missing', 'You are not allowed to do this');
  if (!opts.exclusive) await client.query(`SELECT pg_advisory_xact_lock_shared(${ADMINS_LOCK})`);
  // The header is a decimal id; anything else names nobody (and is not an admin).
  if (!isUserIdString(meta.actorId)) throw new AppError('permission_denied', 'users.actor_not_admin', 'You are not allowed to do this');
  if ((await roleOf(client, Number(meta.actorId))) !== 'admin') throw new AppError('permission_denied', 'users.actor_not_admin', 'You are not allowed to do this');
}
