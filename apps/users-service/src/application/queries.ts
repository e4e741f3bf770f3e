import { filterKind, type ListUsers, type Profile, type SearchUsersRequest, type User, type UserPage } from '@um/contracts';
import { AppError, invalidArgument } from '@um/platform';
import type pg from 'pg';
import { toUser, USER_COLUMNS, type UserRow } from '../projections/users-projection.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Escape LIKE wildcards so user input matches literally. */
export const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function getUser(db: Queryable, id: number, forUpdate = false): Promise<User> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  if (!rows[0]) throw new AppError('not_found', 'users.not_found', 'User not found');
  return toUser(rows[0]);
}

export function listUsers(db: Queryable, q: ListUsers): Promise<UserPage> {
  return page(db, [], [], q);
}

/** `config ->> 'name'` for a declared attribute; names are checked by the profile schema (`[a-z][a-z0-9_]*`), asserted again here because they go into SQL. */
export function configPath(name: string, op: '->>' | '->' = '->>'): string {
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(name)) throw new Error(`not an attribute name: ${name}`);
  return `(config ${op} '${name}')`;
}

/**
 * Every given filter must match. Substrings use trigram indexes, tags a GIN containment, birthday a
 * btree; declared searchable attributes the same by type (see attribute-indexes.ts).
 */
export async function searchUsers(db: Queryable, q: SearchUsersRequest, profile: Profile): Promise<UserPage> {
  const filters = profile.attributeFilters.safeParse(q.attributes);
  if (!filters.success) throw invalidArgument('users.invalid_search_attributes', filters.error);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (q.username) add((p) => `username ILIKE ${p}`, likeLiteral(q.username));
  if (q.email) add((p) => `email ILIKE ${p}`, likeLiteral(q.email));
  if (q.fio) add((p) => `(config ->> 'fio') ILIKE ${p}`, likeLiteral(q.fio));
  if (q.birthday) add((p) => `(config ->> 'birthday') = ${p}`, q.birthday);
  if (q.tags?.length) add((p) => `(config -> 'tags') @> ${p}::jsonb`, JSON.stringify(q.tags));
  for (const [name, value] of Object.entries(filters.data)) {
    if (value === undefined) continue;
    const kind = filterKind(profile.declaration(name)!);
    if (kind === 'substring') add((p) => `${configPath(name)} ILIKE ${p}`, likeLiteral(value as string));
    else if (kind === 'exact') add((p) => `${configPath(name)} = ${p}`, value);
    else if ((value as string[]).length) add((p) => `${configPath(name, '->')} @> ${p}::jsonb`, JSON.stringify(value));
  }
  return page(db, where, params, q);
}

async function page(db: Queryable, where: string[], params: unknown[], q: { limit: number; offset: number }): Promise<UserPage> {
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const n = params.length;
  const [items, total] = await Promise.all([
    db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ${filter} ORDER BY id LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, q.limit, q.offset]),
    db.query<{ total: string }>(`SELECT count(*) AS total FROM users ${filter}`, params),
  ]);
  return { items: items.rows.map(toUser), total: Number(total.rows[0]!.total) };
}
