import type { Pool, PoolClient } from '@um/platform';

type Db = Pool | PoolClient;

/** Issue a link: the user's unused links go, so only the newest one works. */
export async function replaceResetLink(client: PoolClient, userId: number, tokenHash: Buffer, expiresAt: Date): Promise<void> {
  await dropResetLinks(client, userId);
  await client.query('INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [tokenHash, userId, expiresAt]);
}

/**
 * Every unused link of the user dies: on a new link, and whenever what a link was sent for changes
 * (the password is changed, the address changes or a change of it is cancelled).
 */
export async function dropResetLinks(client: Db, userId: number): Promise<void> {
  await client.query('DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL', [userId]);
}

/** Whose link this is, if any (valid or not: the spend decides). */
export async function resetLinkOwner(db: Db, tokenHash: Buffer): Promise<number | undefined> {
  const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM password_resets WHERE token_hash = $1', [tokenHash]);
  return rows[0] ? Number(rows[0].user_id) : undefined;
}

/** Spend a link, locked, if it is unused and unexpired at `now`; false when it is not. */
export async function spendResetLink(client: PoolClient, tokenHash: Buffer, now: Date): Promise<boolean> {
  const { rows } = await client.query<{ valid: boolean }>('SELECT (used_at IS NULL AND expires_at > $2) AS valid FROM password_resets WHERE token_hash = $1 FOR UPDATE', [
    tokenHash,
    now,
  ]);
  if (!rows[0]?.valid) return false;
  await client.query('UPDATE password_resets SET used_at = $2 WHERE token_hash = $1', [tokenHash, now]);
  return true;
}

/** Erasure. */
export async function eraseResetLinks(client: PoolClient, userId: number): Promise<void> {
  await client.query('DELETE FROM password_resets WHERE user_id = $1', [userId]);
}
