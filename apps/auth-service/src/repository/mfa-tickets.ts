import type { Pool, PoolClient } from '@um/platform';

/** The SQL of second-step tickets: only hashes are kept; a ticket is bound to its account and spent once. */

export async function insertMfaTicket(db: Pool, t: { hash: Buffer; userId: number; verifiedAt: Date; deviceId: string | undefined; expiresAt: Date }): Promise<void> {
  await db.query('INSERT INTO mfa_tickets (ticket_hash, user_id, verified_at, device_id, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    t.hash,
    t.userId,
    t.verifiedAt,
    t.deviceId ?? null,
    t.expiresAt,
  ]);
}

/** An unspent, unexpired ticket's account and device. */
export async function findUsableMfaTicket(db: Pool, hash: Buffer, now: Date): Promise<{ user_id: number; device_id: string | null } | undefined> {
  const { rows } = await db.query<{ user_id: string; device_id: string | null }>(
    'SELECT user_id, device_id FROM mfa_tickets WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [hash, now],
  );
  return rows[0] && { ...rows[0], user_id: Number(rows[0].user_id) };
}

/** Spend a usable ticket; returns when its password was checked, or undefined when it was not usable (spent meanwhile, expired). */
export async function spendMfaTicket(client: PoolClient, hash: Buffer, now: Date): Promise<Date | undefined> {
  const { rows } = await client.query<{ verified_at: Date }>(
    'UPDATE mfa_tickets SET used_at = $2 WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING verified_at',
    [hash, now],
  );
  return rows[0]?.verified_at;
}
