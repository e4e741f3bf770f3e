import { filterKind, type ListUsers, type Profile, type SearchUsersRequest, type User, type UserPage } from '@um/contracts';
import { AppError, invalidArgument } from '@um/platform';
import type pg from 'pg';
import { toUser, USER_COLUMNS, userById, type UserRow } from '../read-model/users-repository.js';
import { decodeCursor, encodeCursor } from './cursor.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Escape LIKE wildcards so user input matches literally. */
export const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function getUser(db: Queryable, id: number, forUpdate = false): Promise<User> {
  const user = await userById(db, id, { forUpdate });
  if (!user) throw new AppError('not_found', 'users.not_found', 'User not found');
  return user;
}

/** Page sizes and counting: MAX_PAGE_SIZE, and how many matches are counted exactly (EXACT_COUNT_LIMIT). */
export interface Paging {
  maxPageSize: number;
  exactCountLimit: number;
}

export function listUsers(db: Queryable, q: ListUsers, paging: Paging): Promise<UserPage> {
  return page(db, [], [], q, paging);
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
export async function searchUsers(db: Queryable, q: SearchUsersRequest, profile: Profile, paging: Paging): Promise<UserPage> {
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
  return page(db, where, params, q, paging);
}

const whereOf = (where: string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

/**
 * One page in id order: after the cursor (an index range, so every page costs what the first costs)
 * or at an offset (old clients). One row more than asked says whether a next page exists. The total
 * needs no query when the page ends the matches; otherwise see countMatches.
 */
async function page(db: Queryable, where: string[], params: unknown[], q: ListUsers, paging: Paging): Promise<UserPage> {
  const limit = q.limit ?? paging.maxPageSize;
  if (limit > paging.maxPageSize)
    throw new AppError('invalid_argument', 'users.limit_too_large', `Invalid input: limit must be at most ${paging.maxPageSize}`, [
      { field: 'limit', message: `must be at most ${paging.maxPageSize}` },
    ]);
  if (q.cursor !== undefined && q.offset > 0)
    throw new AppError('invalid_argument', 'users.cursor_and_offset', 'Invalid input: give either cursor or offset', [
      { field: 'offset', message: 'must not be given with cursor' },
    ]);
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  const rowParams = after === undefined ? params : [...params, after];
  const rowWhere = after === undefined ? where : [...where, `id > $${rowParams.length}`];
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ${whereOf(rowWhere)} ORDER BY id LIMIT $${rowParams.length + 1} OFFSET $${rowParams.length + 2}`, [
    ...rowParams,
    limit + 1,
    q.offset,
  ]);
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(toUser);
  const next_cursor = more ? encodeCursor(items[items.length - 1]!.id) : null;
  // The last page of an offset walk (not past the end) knows every match before it: no count.
  if (!more && after === undefined && (items.length > 0 || q.offset === 0)) return { items, total: q.offset + items.length, total_exact: true, limit, next_cursor };
  return { items, ...(await countMatches(db, where, params, paging.exactCountLimit)), limit, next_cursor };
}

/**
 * Matches counted exactly up to `cap` (reading at most cap + 1 index entries), beyond that the
 * planner's estimate (at least cap + 1): a filter matching half a million users is not counted on
 * every page. `total_exact` says which it is.
 */
async function countMatches(db: Queryable, where: string[], params: unknown[], cap: number): Promise<{ total: number; total_exact: boolean }> {
  const filter = whereOf(where);
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM users ${filter} LIMIT ${cap + 1}) m`, params);
  const counted = Number(rows[0]!.n);
  if (counted <= cap) return { total: counted, total_exact: true };
  const plan = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM users ${filter}`, params);
  const estimate = Math.round(plan.rows[0]!['QUERY PLAN'][0].Plan['Plan Rows']);
  return { total: Math.max(estimate, cap + 1), total_exact: false };
}
