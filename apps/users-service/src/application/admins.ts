import { AppError, type PoolClient } from '@um/platform';

/**
 * Refuse to leave the system without an admin. Changes to who is an admin take one lock, so two
 * admins demoting each other at once cannot both succeed.
 */
export async function keepAnAdmin(client: PoolClient, userId: string, action: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended('users.admins', 0))");
  const { rows } = await client.query<{ target_is_admin: boolean; others: number }>(
    `SELECT bool_or(id = $1) AS target_is_admin, count(*) FILTER (WHERE id <> $1)::int AS others FROM users WHERE role = 'admin'`,
    [userId],
  );
  if (rows[0]?.target_is_admin && rows[0].others === 0)
    throw new AppError('already_exists', 'users.last_admin', `The last admin cannot be ${action}; make another user an admin first`);
}
