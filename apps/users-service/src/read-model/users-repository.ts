import { identityKey, type Role, type User } from '@um/contracts';
import type pg from 'pg';
import { usernameSkeleton } from '../domain/username-skeleton.js';

type Queryable = pg.Pool | pg.PoolClient;

/** A row of the users projection, as pg reads it. */
export interface UserRow {
  /** bigint: pg reads it as a string. */
  id: string;
  username: string;
  email: string;
  /** fio, birthday, tags and the declared attributes; a cleared attribute is stored as null. */
  config: { tags: string[] } & Record<string, unknown>;
  role: Role;
  email_verified: boolean;
  created_at: Date;
  updated_at: Date;
}

export const USER_COLUMNS = 'id, username, email, config, role, email_verified, created_at, updated_at';

export function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    username: row.username,
    email: row.email,
    // Cleared attributes (null) are left out: the user simply has none.
    config: { ...Object.fromEntries(Object.entries(row.config).filter(([, v]) => v !== null)), tags: row.config.tags },
    role: row.role,
    email_verified: row.email_verified,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** A user and their password hash, for password checks only (the hash never leaves this service). */
export type UserWithPasswordHash = { user: User; passwordHash: string };

/** The user with this id; `forUpdate` locks the row for the rest of the transaction. */
export async function userById(db: Queryable, id: number, opts: { forUpdate?: boolean } = {}): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] && toUser(rows[0]);
}

/** The user holding this email address (ignoring case). */
export async function userByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = $1`, [identityKey(email)]);
  return rows[0] && toUser(rows[0]);
}

/** The id of the user a login name stands for: the username, else the email (ignoring case); a username wins over another user's email. */
export async function userIdByLogin(db: Queryable, login: string): Promise<number | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE username_key = $1 OR email_key = $2 ORDER BY (username_key = $1) DESC LIMIT 1', [
    identityKey(login),
    identityKey(login),
  ]);
  return rows[0] ? Number(rows[0].id) : undefined;
}

const WITH_HASH = `SELECT ${USER_COLUMNS.split(', ')
  .map((c) => `u.${c}`)
  .join(', ')}, c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id`;

const withHash = (row: (UserRow & { password_hash: string }) | undefined): UserWithPasswordHash | undefined => row && { user: toUser(row), passwordHash: row.password_hash };

/** The user a login name stands for (as `userIdByLogin`), with the password hash. */
export async function userWithPasswordHashByLogin(db: Queryable, login: string): Promise<UserWithPasswordHash | undefined> {
  const { rows } = await db.query<UserRow & { password_hash: string }>(`${WITH_HASH} WHERE u.username_key = $1 OR u.email_key = $2 ORDER BY (u.username_key = $1) DESC LIMIT 1`, [
    identityKey(login),
    identityKey(login),
  ]);
  return withHash(rows[0]);
}

/** The user with this id, with the password hash. */
export async function userWithPasswordHashById(db: Queryable, id: number): Promise<UserWithPasswordHash | undefined> {
  const { rows } = await db.query<UserRow & { password_hash: string }>(`${WITH_HASH} WHERE u.id = $1`, [id]);
  return withHash(rows[0]);
}

/** The role of the user with this id. */
export async function roleOf(db: Queryable, id: number): Promise<Role | undefined> {
  const { rows } = await db.query<{ role: Role }>('SELECT role FROM users WHERE id = $1', [id]);
  return rows[0]?.role;
}

/** How many admins there are besides this user. */
export async function countAdminsExcept(db: Queryable, id: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND id <> $1", [id]);
  return rows[0]!.n;
}

/** Whether any user is an admin. */
export async function anyAdmin(db: Queryable): Promise<boolean> {
  const { rowCount } = await db.query("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1");
  return (rowCount ?? 0) > 0;
}

/**
 * Which of this username and email (ignoring case) users hold already; `lookalike`: another account's
 * username looks like this one (`adrnin` for `admin`), which registration would refuse as well.
 */
export async function heldNames(db: Queryable, wanted: { username: string; email: string }): Promise<Array<'username' | 'email' | 'lookalike'>> {
  const { rows } = await db.query<{ username: boolean; email: boolean; lookalike: boolean }>(
    `SELECT username_key = $1 AS username, email_key = $2 AS email, username_skeleton = $3 AND username_key <> $1 AS lookalike
       FROM users WHERE username_key = $1 OR email_key = $2 OR username_skeleton = $3`,
    [identityKey(wanted.username), identityKey(wanted.email), usernameSkeleton(wanted.username)],
  );
  return (['username', 'email', 'lookalike'] as const).filter((f) => rows.some((r) => r[f]));
}
