import { Rpcs } from '@um/contracts';
import { withTransaction } from '@um/platform';
import { eraseUser } from '../consumers/user-erasure.js';
import type { AuthDeps } from './deps.js';

/** UUIDs asked about per call (the RPC's limit). */
const BATCH = 100;

/**
 * Sessions and password epochs stored before user ids were integers name their user by UUID (the
 * user's stream key in users-service; migration 1700000000007). Ask users-service for the ids of up
 * to a batch of them (or of `only`) and move the rows over: sessions get the id, a password epoch
 * joins the user's current one (the later instant wins). Rows of users deleted since are erased;
 * rows of a UUID users-service never knew name nobody and go. Answers how many UUIDs were settled.
 */
export async function resolveLegacyUsers(deps: Pick<AuthDeps, 'pool' | 'rpc'>, requestId: string, only?: string[]): Promise<number> {
  const { rows } = await deps.pool.query<{ legacy_user_id: string }>(
    `SELECT legacy_user_id FROM sessions WHERE user_id IS NULL AND ($1::uuid[] IS NULL OR legacy_user_id = ANY($1))
     UNION SELECT legacy_user_id FROM legacy_user_security WHERE ($1::uuid[] IS NULL OR legacy_user_id = ANY($1))
     LIMIT ${BATCH}`,
    [only ?? null],
  );
  if (!rows.length) return 0;
  const uuids = rows.map((r) => r.legacy_user_id);
  const { users } = await deps.rpc.call(Rpcs.users.legacyIds, { stream_ids: uuids }, { requestId });
  const known = new Map(users.map((u) => [u.stream_id, u]));
  for (const uuid of uuids) {
    const user = known.get(uuid);
    await withTransaction(deps.pool, async (client) => {
      if (user) {
        await client.query('UPDATE sessions SET user_id = $2, legacy_user_id = NULL WHERE legacy_user_id = $1 AND user_id IS NULL', [uuid, user.user_id]);
        await client.query(
          `INSERT INTO user_security (user_id, sessions_valid_after) SELECT $2, sessions_valid_after FROM legacy_user_security WHERE legacy_user_id = $1
           ON CONFLICT (user_id) DO UPDATE SET sessions_valid_after = GREATEST(user_security.sessions_valid_after, EXCLUDED.sessions_valid_after)`,
          [uuid, user.user_id],
        );
        if (user.deleted) await eraseUser(client, user.user_id);
      } else {
        await client.query('DELETE FROM sessions WHERE legacy_user_id = $1 AND user_id IS NULL', [uuid]);
      }
      await client.query('DELETE FROM legacy_user_security WHERE legacy_user_id = $1', [uuid]);
    });
  }
  return uuids.length;
}

/**
 * At start: settle every legacy row in the background, batch by batch, retrying while users-service
 * cannot answer (it may be starting too). Stops when nothing is left or `stop` is called.
 */
export function resolveLegacyUsersInBackground(deps: Pick<AuthDeps, 'pool' | 'rpc' | 'log'>, retryMs = 2_000): { stop: () => void; done: Promise<void> } {
  let stopped = false;
  const done = (async () => {
    let settled = 0;
    while (!stopped) {
      try {
        const n = await resolveLegacyUsers(deps, 'auth:legacy-user-ids');
        settled += n;
        if (!n) break;
      } catch (err) {
        deps.log.warn({ err: String(err) }, 'could not learn the ids of users from before integer ids yet; will retry');
        await new Promise((r) => setTimeout(r, retryMs).unref());
      }
    }
    if (settled) deps.log.info({ users: settled }, 'sessions from before integer user ids now name their users by id');
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}
