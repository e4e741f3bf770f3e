import { ListUsers, RegisterUser, SearchUsersRequest } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/application/cursor.js';
import { listUsers, searchUsers, type Paging } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
const tag = `p${Date.now()}`;
const other = `q${Date.now()}`;
const ids: number[] = [];
beforeAll(async () => {
  fx = await usersFixture();
  // 12 users tagged `tag`, 3 of them also `other`; registered in order, so ids ascend.
  for (let i = 0; i < 12; i++) ids.push((await registerUser(fx.deps, RegisterUser.parse(newUser({ tags: i % 4 === 0 ? [tag, other] : [tag] })), meta)).id);
}, 60_000);
afterAll(() => fx?.close());

/** The pool, recording every statement sent through it. */
function counting() {
  const sql: string[] = [];
  const db = new Proxy(fx.pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
      return (text: string, params?: unknown[]) => {
        sql.push(text);
        return target.query(text, params);
      };
    },
  });
  return { db, sql, counts: () => sql.filter((s) => /count\(\*\)|EXPLAIN/.test(s)).length };
}

const paging: Paging = { maxPageSize: 5, exactCountLimit: 100 };
const search = (q: Record<string, unknown>, p = paging, db = fx.pool) => searchUsers(db, SearchUsersRequest.parse({ tags: tag, ...q }), fx.deps.profile, p);

describe('cursor paging', () => {
  it('walks every match once, in id order, by following next_cursor', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await search({ limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((u) => u.id));
      expect(page.total).toBe(12);
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('has no next_cursor when the page ends the matches exactly', async () => {
    const page = await search({ limit: 3, tags: `${tag},${other}` });
    expect(page.items.map((u) => u.id)).toEqual([ids[0], ids[4], ids[8]]);
    expect(page.next_cursor).toBeNull();
  });

  it('carries only the sort key, base64url', async () => {
    const page = await search({ limit: 2 });
    expect(page.next_cursor).toBe(encodeCursor(ids[1]!));
    expect(JSON.parse(Buffer.from(page.next_cursor!, 'base64url').toString())).toEqual([ids[1]]);
  });

  it('refuses a cursor it did not issue, and a cursor with an offset, naming the field', async () => {
    for (const cursor of [
      'bm90LWpzb24',
      Buffer.from('{"id":1}').toString('base64url'),
      Buffer.from('["x"]').toString('base64url'),
      Buffer.from('[0]').toString('base64url'),
      Buffer.from('[1.5]').toString('base64url'),
    ]) {
      const e = await rejection(search({ cursor }));
      expect([e.code, e.fields?.map((f) => f.field)]).toEqual(['invalid_argument', ['cursor']]);
    }
    const e = await rejection(search({ cursor: encodeCursor(ids[0]!), offset: 2 }));
    expect([e.code, e.fields?.map((f) => f.field)]).toEqual(['invalid_argument', ['offset']]);
  });

  it('reads a later page through the primary key range, not by skipping rows', async () => {
    const client = await fx.pool.connect();
    try {
      await client.query('BEGIN');
      // A dozen rows would be scanned whole anyway: make the planner show the access path it has.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT 6`, [ids[6]]);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index (Only )?Scan using users_pkey/);
      expect(plan).toMatch(/Index Cond: \(id > /);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('still accepts offset (old clients)', async () => {
    const page = await search({ limit: 5, offset: 10 });
    expect(page.items.map((u) => u.id)).toEqual(ids.slice(10));
    expect([page.total, page.total_exact, page.next_cursor]).toEqual([12, true, null]);
  });
});

describe('counting', () => {
  it('sends no count query for a first page that is not full', async () => {
    const c = counting();
    const page = await search({ limit: 20, tags: `${tag},${other}` }, { maxPageSize: 1000, exactCountLimit: 100 }, c.db);
    expect([page.total, page.total_exact]).toEqual([3, true]);
    expect(c.sql).toHaveLength(1);
  });

  it('sends no count query for the last page of an offset walk either', async () => {
    const c = counting();
    expect((await search({ limit: 5, offset: 10 }, paging, c.db)).total).toBe(12);
    expect(c.counts()).toBe(0);
  });

  it('counts exactly up to EXACT_COUNT_LIMIT, and estimates beyond it, saying so', async () => {
    const exact = await search({ limit: 2 }, { maxPageSize: 5, exactCountLimit: 12 });
    expect([exact.total, exact.total_exact]).toEqual([12, true]);
    const c = counting();
    const estimated = await search({ limit: 2 }, { maxPageSize: 5, exactCountLimit: 4 }, c.db);
    expect(estimated.total_exact).toBe(false);
    // At least what was counted; the planner's guess otherwise.
    expect(estimated.total).toBeGreaterThanOrEqual(5);
    expect(c.sql.some((s) => s.includes('LIMIT 5'))).toBe(true);
    expect(c.sql.some((s) => s.startsWith('EXPLAIN'))).toBe(true);
  });

  it('counts a cursor page the same way as the first', async () => {
    const first = await search({ limit: 5 });
    const c = counting();
    const second = await search({ limit: 5, cursor: first.next_cursor }, paging, c.db);
    expect([second.total, second.total_exact]).toEqual([12, true]);
    expect(c.sql).toHaveLength(2);
  });
});

describe('MAX_PAGE_SIZE', () => {
  it('is the page size when the request gives no limit, so a small directory comes whole', async () => {
    const all = await listUsers(fx.pool, ListUsers.parse({}), { maxPageSize: 1000, exactCountLimit: 10_000 });
    expect(all.items.map((u) => u.id)).toEqual(ids);
    expect([all.total, all.total_exact, all.limit, all.next_cursor]).toEqual([12, true, 1000, null]);
  });

  it('pages on beyond it', async () => {
    const page = await listUsers(fx.pool, ListUsers.parse({}), paging);
    expect(page.items).toHaveLength(5);
    expect([page.total, page.limit]).toEqual([12, 5]);
    expect(page.next_cursor).toBe(encodeCursor(ids[4]!));
  });

  it('refuses a larger limit, naming it', async () => {
    const e = await rejection(listUsers(fx.pool, ListUsers.parse({ limit: 6 }), paging));
    expect([e.code, e.fields]).toEqual(['invalid_argument', [{ field: 'limit', message: 'must be at most 5' }]]);
  });
});
