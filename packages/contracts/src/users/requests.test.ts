import { describe, expect, it } from 'vitest';
import { ListUsers, RegisterUser, SearchUsers, UserId } from './requests.js';
import { UserIdString } from './user-id.js';

const valid = {
  username: 'alice_01',
  email: 'alice@example.com',
  password: 'correct horse',
  fio: 'Alice Example',
  birthday: '1990-01-02',
  tags: ['x', 'y'],
};

/** `[path, message]` per issue of a failed RegisterUser parse. */
function issues(input: unknown): Array<[string, string]> {
  const r = RegisterUser.safeParse(input);
  if (r.success) throw new Error(`expected rejection, got ${JSON.stringify(r.data)}`);
  return r.error.issues.map((i) => [i.path.join('.'), i.message]);
}

describe('RegisterUser', () => {
  it('accepts a valid registration and normalises it', () => {
    const r = RegisterUser.parse({
      username: '  alice_01 ',
      email: ' alice@example.com ',
      password: ' correct horse ',
      fio: '  Alice Example ',
      birthday: '1990-01-02',
      tags: 'a, b,,a ',
    });
    expect(r).toEqual({
      username: 'alice_01',
      email: 'alice@example.com',
      password: ' correct horse ',
      fio: 'Alice Example',
      birthday: '1990-01-02',
      tags: ['a', 'b'],
    });
  });

  it('defaults tags to [] when missing', () => {
    const { tags: _tags, ...rest } = valid;
    expect(RegisterUser.parse(rest).tags).toEqual([]);
    expect(RegisterUser.parse({ ...rest, tags: undefined }).tags).toEqual([]);
  });

  it('drops unknown keys such as role, id or email_verified', () => {
    const r = RegisterUser.parse({ ...valid, role: 'admin', id: '00000000-0000-7000-8000-000000000000', email_verified: true });
    expect(Object.keys(r).sort()).toEqual(['birthday', 'email', 'fio', 'password', 'tags', 'username']);
  });

  it('reports each missing field once, by path', () => {
    expect(issues({})).toEqual([
      ['username', 'must be a string'],
      ['email', 'must be a string'],
      ['password', 'must be a string'],
      ['fio', 'must be a string'],
      ['birthday', 'must be a string'],
    ]);
  });

  it('rejects a non-object body', () => {
    for (const body of [null, 'x', 42, []]) {
      const r = RegisterUser.safeParse(body);
      expect(r.success).toBe(false);
      expect(r.error?.issues).toHaveLength(1);
      expect(r.error?.issues[0]?.path).toEqual([]);
    }
  });

  it('reports exactly one issue per bad field and none for good ones', () => {
    expect(
      issues({
        username: 'abcde',
        email: 'not-an-email',
        password: 'short',
        fio: '   ',
        birthday: '2021-02-29',
        tags: Array.from({ length: 21 }, (_, i) => `t${i}`),
      }),
    ).toEqual([
      ['username', 'must be at least 6 characters'],
      ['email', 'must be a valid email address'],
      ['password', 'must be at least 8 characters'],
      ['fio', 'must not be empty'],
      ['birthday', 'must be a real calendar date'],
      ['tags', 'must have at most 20 tags'],
    ]);

    expect(issues({ ...valid, password: 'é'.repeat(37), birthday: '1899-12-31' })).toEqual([
      ['password', 'must be at most 72 bytes in UTF-8'],
      ['birthday', 'must not be before 1900-01-01'],
    ]);
  });

  it('reports one issue per field even when a field breaks several rules', () => {
    const paths = issues({
      ...valid,
      username: 'a b', // too short and a forbidden character
      tags: [...Array.from({ length: 21 }, (_, i) => `t${i}`), 'y'.repeat(51)], // too many and too long
    }).map(([path]) => path);
    expect(paths).toEqual(['username', 'tags']);
  });

  it('reports a wrongly typed field once', () => {
    expect(issues({ ...valid, username: 1, email: 2, password: 3, fio: 4, birthday: 5, tags: 6 }).map(([p]) => p)).toEqual([
      'username',
      'email',
      'password',
      'fio',
      'birthday',
      'tags',
    ]);
    expect(issues({ ...valid, tags: ['a', 5] }).map(([p]) => p)).toEqual(['tags']);
  });

  it.each([
    ['username', 'abcde', false],
    ['username', 'abcdef', true],
    ['username', 'a'.repeat(36), true],
    ['username', 'a'.repeat(37), false],
    ['username', 'Жанна_Петрова', true],
    ['username', 'Жанна_Ωμέγα', false],
    ['username', 'root_\u0430dmin', false],
    ['fio', 'a\ud800', false],
    ['password', 'pass\udc00word', false],
    ['username', 'john doe', false],
    ['password', 'a'.repeat(7), false],
    ['password', 'a'.repeat(8), true],
    ['password', 'a'.repeat(72), true],
    ['password', 'a'.repeat(73), false],
    ['password', 'é'.repeat(36), true],
    ['password', 'é'.repeat(37), false],
    ['fio', 'f'.repeat(200), true],
    ['fio', 'f'.repeat(201), false],
    ['fio', '', false],
    ['birthday', '2020-02-29', true],
    ['birthday', '2021-02-29', false],
    ['tags', 'a, b,,a ', true],
    ['tags', ['t'.repeat(51)], false],
  ])('%s = %j → accepted: %s', (field, fieldValue, ok) => {
    const r = RegisterUser.safeParse({ ...valid, [field]: fieldValue });
    expect(r.success).toBe(ok);
    if (!r.success) expect(r.error.issues.map((i) => i.path)).toEqual([[field]]);
  });
});

describe('ListUsers / SearchUsers paging', () => {
  it.each([
    ['ListUsers', ListUsers],
    ['SearchUsers', SearchUsers],
  ] as const)('%s leaves limit to the server (MAX_PAGE_SIZE), offset 0', (_name, schema) => {
    expect(schema.parse({})).toEqual({ offset: 0 });
  });

  it.each([
    ['WyIwMTkwIl0', true],
    ['', false],
    ['a+b', false],
    ['a/b=', false],
    ['x'.repeat(201), false],
  ])('cursor %j accepted: %s', (cursor, ok) => {
    expect(ListUsers.safeParse({ cursor }).success).toBe(ok);
    expect(SearchUsers.safeParse({ cursor }).success).toBe(ok);
  });

  it.each([
    [1, true],
    [1000, true],
    [0, false],
    [1001, false],
    [-1, false],
    [1.5, false],
    ['0', false],
    ['1001', false],
    ['abc', false],
  ])('limit %j accepted: %s', (limit, ok) => {
    expect(ListUsers.safeParse({ limit }).success).toBe(ok);
    expect(SearchUsers.safeParse({ limit }).success).toBe(ok);
  });

  it('names the bad paging field', () => {
    const r = SearchUsers.safeParse({ limit: 0, offset: -1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['limit', 'must be at least 1'],
      ['offset', 'must not be negative'],
    ]);
    expect(ListUsers.safeParse({ limit: 1001 }).error?.issues.map((i) => i.message)).toEqual(['must be at most 1000']);
  });

  it('coerces query-string numbers', () => {
    expect(ListUsers.parse({ limit: '1000', offset: '20' })).toEqual({ limit: 1000, offset: 20 });
    expect(SearchUsers.parse({ limit: '5' })).toEqual({ limit: 5, offset: 0 });
    expect(SearchUsers.parse({ cursor: 'WyJ4Il0' })).toEqual({ offset: 0, cursor: 'WyJ4Il0' });
  });

  it('accepts offset 0 and rejects negative or fractional offsets', () => {
    expect(ListUsers.parse({ offset: 0 }).offset).toBe(0);
    expect(ListUsers.safeParse({ offset: -1 }).success).toBe(false);
    expect(ListUsers.safeParse({ offset: 2.5 }).success).toBe(false);
  });
});

describe('SearchUsers filters', () => {
  it('are optional, trimmed, and tags are normalised', () => {
    expect(SearchUsers.parse({ username: ' ali ', tags: 'a, b,,a ', birthday: '1990-01-02' })).toEqual({
      offset: 0,
      username: 'ali',
      tags: ['a', 'b'],
      birthday: '1990-01-02',
    });
  });

  it('rejects blank or overlong needles and impossible dates', () => {
    expect(SearchUsers.safeParse({ username: '   ' }).error?.issues.map((i) => i.path)).toEqual([['username']]);
    expect(SearchUsers.safeParse({ fio: 'x'.repeat(201) }).success).toBe(false);
    expect(SearchUsers.safeParse({ fio: 'x'.repeat(200) }).success).toBe(true);
    expect(SearchUsers.safeParse({ birthday: '2021-02-29' }).error?.issues.map((i) => i.path)).toEqual([['birthday']]);
  });
});

describe('UserId', () => {
  it('accepts a positive integer up to 2^53 - 1 and rejects anything else', () => {
    expect(UserId.parse({ user_id: 1 })).toEqual({ user_id: 1 });
    expect(UserId.parse({ user_id: Number.MAX_SAFE_INTEGER })).toEqual({ user_id: Number.MAX_SAFE_INTEGER });
    const message = (user_id: unknown) => UserId.safeParse({ user_id }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(message(0)).toEqual([['user_id', 'must be at least 1']]);
    expect(message(-3)).toEqual([['user_id', 'must be at least 1']]);
    expect(message(1.5)).toEqual([['user_id', 'must be a whole number']]);
    expect(message(2 ** 53)).toContainEqual(['user_id', 'must be at most 9007199254740991']);
    for (const bad of ['1', '01900000-0000-7000-8000-000000000001', null, Number.NaN, Number.POSITIVE_INFINITY])
      expect(UserId.safeParse({ user_id: bad }).success, String(bad)).toBe(false);
  });
});

describe('user ids written as text (paths, the token subject)', () => {
  it('parse plain decimals from 1 to 2^53 - 1 to numbers, and nothing else', () => {
    expect(UserIdString.parse('1')).toBe(1);
    expect(UserIdString.parse('42')).toBe(42);
    expect(UserIdString.parse('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [
      '0',
      '00',
      '042',
      '+42',
      '-42',
      '4.2',
      '4e2',
      '0x2a',
      ' 42',
      '42 ',
      '',
      'me',
      '9007199254740992',
      '99999999999999999',
      '01900000-0000-7000-8000-000000000001',
    ])
      expect(UserIdString.safeParse(bad).success, bad).toBe(false);
  });
});
