import type { Pool, PoolClient } from '@um/platform';

type Db = Pool | PoolClient;

/** One address change as kept until it is confirmed, cancelled or replaced. */
export interface EmailChangeRow {
  id: string;
  user_id: string;
  old_email: string;
  old_verified: boolean;
  new_email: string;
  confirmed_at: Date | null;
}

const COLUMNS = 'id, user_id, old_email, old_verified, new_email, confirmed_at';

/** A new request: the user's earlier pending ones are closed (their links die), then this one is kept. */
export async function openEmailChange(
  client: PoolClient,
  c: { userId: number; requestVersion: number; oldEmail: string; oldVerified: boolean; newEmail: string },
  now: Date,
): Promise<void> {
  await closePendingEmailChanges(client, c.userId, now);
  await client.query('INSERT INTO email_changes (user_id, request_version, old_email, old_verified, new_email) VALUES ($1, $2, $3, $4, $5)', [
    c.userId,
    c.requestVersion,
    c.oldEmail,
    c.oldVerified,
    c.newEmail,
  ]);
}

/** Close every change of the user not yet confirmed. */
export async function closePendingEmailChanges(client: Db, userId: number, now: Date): Promise<void> {
  await client.query('UPDATE email_changes SET closed_at = $2, confirm_hash = NULL, cancel_hash = NULL WHERE user_id = $1 AND closed_at IS NULL AND confirmed_at IS NULL', [
    userId,
    now,
  ]);
}

/** The open change recorded for one request event, locked. */
export async function openChangeOfRequest(client: PoolClient, userId: number, requestVersion: number): Promise<EmailChangeRow | undefined> {
  const { rows } = await client.query<EmailChangeRow>(
    `SELECT ${COLUMNS} FROM email_changes WHERE user_id = $1 AND request_version = $2 AND closed_at IS NULL AND confirmed_at IS NULL FOR UPDATE`,
    [userId, requestVersion],
  );
  return rows[0];
}

/** Store the hashes of a change's two links (a redelivered request replaces both). */
export async function setEmailChangeLinks(
  client: PoolClient,
  id: string,
  links: { confirmHash: Buffer; confirmExpiresAt: Date; cancelHash: Buffer; cancelExpiresAt: Date },
): Promise<void> {
  await client.query('UPDATE email_changes SET confirm_hash = $2, confirm_expires_at = $3, cancel_hash = $4, cancel_expires_at = $5 WHERE id = $1', [
    id,
    links.confirmHash,
    links.confirmExpiresAt,
    links.cancelHash,
    links.cancelExpiresAt,
  ]);
}

/** Close one change (its new address is taken, it was cancelled). */
export async function closeEmailChange(client: PoolClient, id: string, now: Date): Promise<void> {
  await client.query('UPDATE email_changes SET closed_at = $2, confirm_hash = NULL, cancel_hash = NULL WHERE id = $1', [id, now]);
}

/** Whose change a confirmation link is for (the spend checks it again, locked). */
export async function ownerOfLink(db: Db, column: 'confirm_hash' | 'cancel_hash', hash: Buffer): Promise<number | undefined> {
  const { rows } = await db.query<{ user_id: string }>(`SELECT user_id FROM email_changes WHERE ${column} = $1`, [hash]);
  return rows[0] ? Number(rows[0].user_id) : undefined;
}

/** The pending change a live confirmation link names, locked. */
export async function changeToConfirm(client: PoolClient, hash: Buffer, now: Date): Promise<EmailChangeRow | undefined> {
  const { rows } = await client.query<EmailChangeRow>(
    `SELECT ${COLUMNS} FROM email_changes WHERE confirm_hash = $1 AND closed_at IS NULL AND confirmed_at IS NULL AND confirm_expires_at > $2 FOR UPDATE`,
    [hash, now],
  );
  return rows[0];
}

/** Mark a change made: its confirmation link is spent, its cancel link stays until it expires. */
export async function markEmailChangeConfirmed(client: PoolClient, id: string, now: Date): Promise<void> {
  await client.query('UPDATE email_changes SET confirmed_at = $2, confirm_hash = NULL WHERE id = $1', [id, now]);
}

/** The change (pending or made) a live cancel link names, locked. */
export async function changeToCancel(client: PoolClient, hash: Buffer, now: Date): Promise<EmailChangeRow | undefined> {
  const { rows } = await client.query<EmailChangeRow>(`SELECT ${COLUMNS} FROM email_changes WHERE cancel_hash = $1 AND closed_at IS NULL AND cancel_expires_at > $2 FOR UPDATE`, [
    hash,
    now,
  ]);
  return rows[0];
}

/** Erasure: the addresses go with the user. */
export async function eraseEmailChanges(client: PoolClient, userId: number): Promise<void> {
  await client.query('DELETE FROM email_changes WHERE user_id = $1', [userId]);
}
