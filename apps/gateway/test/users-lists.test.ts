/** Lists of users: GET /users paging and GET /users/search. */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, requester, signToken, useGateway, userReply } from './support.js';

const h = useGateway();
const { send } = requester(() => h);

describe('GET /users paging', () => {
  let token: string;
  beforeAll(async () => {
    token = await signToken(h.key);
  });

  const page = (total: number, more: { next_cursor?: string | null; total_exact?: boolean; limit?: number } = {}) => ({
    items: [userReply(), userReply()],
    total,
    total_exact: true,
    limit: 100,
    next_cursor: null,
    ...more,
  });

  it('leaves the page size to the service without limit (MAX_PAGE_SIZE), with X-Total-Count', async () => {
    h.rpc.reply = () => page(2, { limit: 1000 });
    const a = await send('/users', { token });
    expect(a.status).toBe(200);
    expect(a.body).toHaveLength(2);
    expect(h.rpc.calls[0]!.input).toEqual({ offset: 0 });
    expect(a.headers.get('x-total-count')).toBe('2');
    expect(a.headers.get('x-total-count-exact')).toBe('true');
    expect(a.headers.get('link')).toBeNull();
  });

  it('links the next page by its cursor, replacing the offset and keeping limit and other parameters', async () => {
    h.rpc.reply = () => page(250, { next_cursor: 'WyJuZXh0Il0', limit: 10 });
    const a = await send('/users?sort=x&limit=10&offset=20', { token });
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 10, offset: 20 });
    expect(a.headers.get('link')).toBe('</users?sort=x&limit=10&cursor=WyJuZXh0Il0>; rel="next", </users?sort=x&limit=10&offset=10>; rel="prev"');
  });

  it('forwards a cursor; cursor pages have no prev link', async () => {
    h.rpc.reply = () => page(250, { next_cursor: 'WyJiIl0', limit: 10 });
    const a = await send('/users?limit=10&cursor=WyJhIl0', { token });
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 10, offset: 0, cursor: 'WyJhIl0' });
    expect(a.headers.get('link')).toBe('</users?limit=10&cursor=WyJiIl0>; rel="next"');
  });

  it('says when X-Total-Count is an estimate', async () => {
    h.rpc.reply = () => page(123_456, { total_exact: false, next_cursor: 'WyJiIl0' });
    const a = await send('/users', { token });
    expect(a.headers.get('x-total-count')).toBe('123456');
    expect(a.headers.get('x-total-count-exact')).toBe('false');
  });

  it('has only prev on the last page, never a negative offset', async () => {
    h.rpc.reply = () => page(25, { limit: 10 });
    const b = await send('/users?limit=10&offset=20', { token });
    expect(b.headers.get('link')).toBe('</users?limit=10&offset=10>; rel="prev"');
    h.rpc.reply = () => page(5, { limit: 10 });
    const a = await send('/users?limit=10&offset=1', { token });
    expect(a.headers.get('link')).toBe('</users?limit=10&offset=0>; rel="prev"');
  });

  it('has no Link when everything fits', async () => {
    h.rpc.reply = () => ({ items: [], total: 0, total_exact: true, limit: 1000, next_cursor: null });
    const a = await send('/users', { token });
    expect(a.status).toBe(200);
    expect(a.body).toEqual([]);
    expect(a.headers.get('x-total-count')).toBe('0');
    expect(a.headers.get('link')).toBeNull();
  });

  it.each([
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=0', 'limit'],
    ['limit=1.5', 'limit'],
    ['offset=-1', 'offset'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=a%2Bb', 'cursor'],
    ['cursor=', 'cursor'],
  ])('%s → 422', async (q, field) => {
    const a = await send(`/users?${q}`, { token });
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(h.rpc.calls).toEqual([]);
  });

  it('limit=1000 is allowed', async () => {
    h.rpc.reply = () => page(2);
    expect((await send('/users?limit=1000', { token })).status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 1000, offset: 0 });
  });
});

describe('GET /users/search', () => {
  let token: string;
  beforeAll(async () => {
    token = await signToken(h.key);
  });

  const hostile = ['%', '_', "'; DROP TABLE users; --", 'a\\b\\\\c\\', '%_\\%', 'Иван 山田 😀 e\u0301', '"quoted" <b>x</b>', '$1 OR 1=1', '*)(uid=*'];

  it.each(hostile)('forwards %j verbatim as data', async (needle) => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    const q = new URLSearchParams({ username: needle, email: needle, fio: `  ${needle}  ` });
    const a = await send(`/users/search?${q.toString()}`, { token });
    expect(a.status, a.text).toBe(200);
    expect(h.rpc.calls).toEqual([expect.objectContaining({ rpc: 'users.search', input: { offset: 0, username: needle, email: needle, fio: needle, attributes: {} } })]);
  });

  it('splits tags and keeps the filters in the paging links', async () => {
    h.rpc.reply = () => ({ items: [userReply()], total: 500, total_exact: true, limit: 5, next_cursor: 'WyJ4Il0' });
    const a = await send(`/users/search?tags=a,b&fio=${encodeURIComponent("'; DROP TABLE users; --")}&birthday=1990-01-02&limit=5`, { token });
    expect(a.status).toBe(200);
    expect(h.rpc.calls[0]!.input).toEqual({ limit: 5, offset: 0, tags: ['a', 'b'], fio: "'; DROP TABLE users; --", birthday: '1990-01-02', attributes: {} });
    const next = /<([^>]+)>; rel="next"/.exec(a.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const u = new URL(next!, h.url);
    expect(u.pathname).toBe('/users/search');
    expect(Object.fromEntries(u.searchParams)).toEqual({ tags: 'a,b', fio: "'; DROP TABLE users; --", birthday: '1990-01-02', limit: '5', cursor: 'WyJ4Il0' });
  });

  it('accepts repeated tags parameters', async () => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    await send('/users/search?tags=x&tags=%20y%20&tags=x', { token });
    expect((h.rpc.calls[0]!.input as { tags: string[] }).tags).toEqual(['x', 'y']);
  });

  it.each([
    ['birthday=2020-13-01', 'birthday'],
    ['birthday=1990-1-2', 'birthday'],
    ['username=%20%20', 'username'],
    [`fio=${'x'.repeat(201)}`, 'fio'],
    [`tags=${'t'.repeat(51)}`, 'tags'],
  ])('%s → 422', async (q, field) => {
    const a = await send(`/users/search?${q.toString()}`, { token });
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(h.rpc.calls).toEqual([]);
  });
});
