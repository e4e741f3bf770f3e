import type { TokenSubject } from '@um/contracts';
import { AppError } from '@um/platform';
import type pg from 'pg';
import { lastRecordedAt } from '../event-store/event-store.js';
import { userIdByLogin } from '../read-model/users-repository.js';

/**
 * What an access token says about its user, read from one row: the role and the version of the
 * user's stream it was read at (plus whether a second factor is due, and the last password reset). A role change commits a higher version and revokes every token below
 * it, so a token signed from a read that raced the change is refused however late it is signed.
 */
export async function tokenSubject(db: pg.Pool, userId: number): Promise<TokenSubject> {
  const { rows } = await db.query<{ id: string; role: TokenSubject['role']; version: number; mfa: boolean }>(
    `SELECT u.id, u.role, u.version, EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL) AS mfa
       FROM users u WHERE u.id = $1`,
    [userId],
  );
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'users.not_found', 'User not found');
  const resetAt = await lastRecordedAt(db, userId, 'PasswordReset');
  return { user_id: Number(row.id), role: row.role, authz_version: row.version, mfa: row.mfa, password_reset_at: resetAt?.toISOString() ?? null };
}

/** The account a login name (username or email) stands for, if any: one look-up, whether or not it exists. */
export async function resolveLogin(db: pg.Pool, login: string): Promise<{ user_id: number | null }> {
  return { user_id: (await userIdByLogin(db, login.trim())) ?? null };
}

/**
 * The ids of users auth-service stored by their stream UUID before ids were integers, and whether
 * each has been deleted since (its id stays recorded, its projection row is gone).
 */
export async function legacyUserIds(db: pg.Pool, streamIds: string[]): Promise<{ users: Array<{ stream_id: string; user_id: number; deleted: boolean }> }> {
  const { rows } = await db.query<{ stream_id: string; id: string; deleted: boolean }>(
    'SELECT m.stream_id, m.id, NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.id) AS deleted FROM user_ids m WHERE m.stream_id = ANY($1::uuid[])',
    [streamIds],
  );
  return { users: rows.map((r) => ({ stream_id: r.stream_id, user_id: Number(r.id), deleted: r.deleted })) };
}
