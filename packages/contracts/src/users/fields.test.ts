import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { Birthday, byteLength, charLength, DateString, Email, Fio, isRealDate, latestToday, normaliseTags, Password, Tags, Username } from './fields.js';

const rep = (s: string, n: number) => s.repeat(n);

/** The messages of a failed parse; fails the test when the parse succeeded. */
function messages(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${JSON.stringify(r.data)}`);
  return r.error.issues.map((i) => i.message);
}

/** The parsed value; fails the test with the issues when the parse failed. */
function value<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new Error(`expected ${JSON.stringify(input)} to be accepted: ${r.error.message}`);
  return r.data;
}

/** A UTC calendar date `days` away from now, as YYYY-MM-DD. */
const utcDate = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const localToday = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

describe('charLength / byteLength', () => {
  it('count code points after NFC, and UTF-8 bytes', () => {
    expect(charLength('abc')).toBe(3);
    expect(charLength('жжж')).toBe(3);
    expect(charLength('😀')).toBe(1);
    expect(charLength('e\u0301')).toBe(1);
    expect(byteLength('é')).toBe(2);
    expect(byteLength('жжж')).toBe(6);
    expect(byteLength('😀')).toBe(4);
    expect(byteLength('山')).toBe(3);
  });
});

describe('Username', () => {
  it.each([
    ['5 characters', 'abcde', false],
    ['6 characters', 'abcdef', true],
    ['36 characters', rep('a', 36), true],
    ['37 characters', rep('a', 37), false],
  ])('length boundary: %s', (_label, input, ok) => {
    expect(Username.safeParse(input).success).toBe(ok);
  });

  it('names the failed length rule', () => {
    expect(messages(Username, 'abcde')).toEqual(['must be at least 6 characters']);
    expect(messages(Username, rep('a', 37))).toEqual(['must be at most 36 characters']);
  });

  it('counts non-Latin letters per character, not per byte', () => {
    // Cyrillic: 2 bytes per letter
    expect(Username.safeParse(rep('ж', 5)).success).toBe(false);
    expect(value(Username, rep('ж', 6))).toBe(rep('ж', 6));
    expect(value(Username, rep('ж', 36))).toBe(rep('ж', 36));
    expect(Username.safeParse(rep('ж', 37)).success).toBe(false);
    // Greek
    expect(value(Username, 'αβγδεζ')).toBe('αβγδεζ');
    expect(Username.safeParse('αβγδε').success).toBe(false);
    // CJK: 3 bytes per character
    expect(value(Username, '山田太郎花子')).toBe('山田太郎花子');
    expect(Username.safeParse('山田太郎花').success).toBe(false);
    expect(Username.safeParse(rep('山', 36)).success).toBe(true);
    expect(Username.safeParse(rep('山', 37)).success).toBe(false);
    // one script with digits and allowed punctuation (mixing scripts has rules of its own, below)
    expect(value(Username, 'Иван_Петров-1.2')).toBe('Иван_Петров-1.2');
    expect(value(Username, 'yamada-山田.1')).toBe('yamada-山田.1');
  });

  it('counts a decomposed accented letter as one character and stores it composed (NFC)', () => {
    const decomposed = rep('e\u0301', 36); // 72 code points before NFC, 36 after
    expect(value(Username, decomposed)).toBe(rep('\u00e9', 36));
    expect(Username.safeParse(rep('e\u0301', 37)).success).toBe(false);
    expect(Username.safeParse(rep('e\u0301', 5)).success).toBe(false);
  });

  it('allows letters, digits, "_", "." and "-"', () => {
    for (const ok of ['john_doe', 'john.doe', 'john-doe', '123456', '_.-_.9', 'A_b.C-d9']) expect(value(Username, ok)).toBe(ok);
  });

  it.each([
    ['space', 'john doe'],
    ['@', 'john@doe'],
    ['emoji', 'john😀doe'],
    ['emoji only', rep('😀', 6)],
    ['!', 'john!doe'],
    ['/', 'john/doe'],
    ['+', 'john+doe'],
    ['tab', 'john\tdoe'],
    ['zero-width space', 'johndoe\u200b'],
    ['comma', 'john,doe'],
  ])('rejects a forbidden character: %s', (_label, input) => {
    expect(messages(Username, input)).toEqual(['may contain only letters, digits, "_", "." and "-"']);
  });

  it('trims surrounding whitespace before checking', () => {
    expect(value(Username, '  john_doe  ')).toBe('john_doe');
    expect(Username.safeParse('   abcde   ').success).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(messages(Username, 123456)).toEqual(['must be a string']);
    expect(messages(Username, null)).toEqual(['must be a string']);
  });

  it('reports one issue even when the value breaks two rules', () => {
    expect(messages(Username, 'a b')).toHaveLength(1);
    expect(messages(Username, `${rep('a', 37)}@`)).toHaveLength(1);
  });
});

describe('Email', () => {
  it.each(['user@example.com', 'user.name+tag@example.co.uk', 'a_b-c@sub.example.org', 'UPPER@EXAMPLE.COM', 'x1@a-b.io'])('accepts %s', (e) => {
    expect(value(Email, e)).toBe(e);
  });

  it.each(['', 'plainaddress', '@example.com', 'user@', 'a@b', 'a@@example.com', 'a b@example.com', 'user@localhost', 'user@exa_mple.com', 'user@example.com.'])(
    'rejects %j',
    (e) => {
      expect(messages(Email, e)).toEqual(['must be a valid email address']);
    },
  );

  it('trims surrounding spaces and keeps the case', () => {
    expect(value(Email, '  Alice@Example.com  ')).toBe('Alice@Example.com');
    expect(value(Email, '\tbob@example.com\n')).toBe('bob@example.com');
    expect(messages(Email, '   ')).toEqual(['must be a valid email address']);
  });

  it('accepts 254 characters and rejects 255', () => {
    const make = (n: number) => `${rep('a', 64)}@${rep('b', 63)}.${rep('c', 63)}.${rep('d', n - 197)}.com`;
    expect(make(254)).toHaveLength(254);
    expect(value(Email, make(254))).toBe(make(254));
    expect(messages(Email, make(255))).toEqual(['must be at most 254 characters']);
  });

  it('rejects non-strings', () => {
    expect(messages(Email, 42)).toEqual(['must be a string']);
  });
});

describe('Password', () => {
  it.each([
    ['7 characters', rep('a', 7), false],
    ['8 characters', rep('a', 8), true],
    ['72 ASCII bytes', rep('a', 72), true],
    ['73 ASCII bytes', rep('a', 73), false],
    ['36 two-byte characters = 72 bytes', rep('é', 36), true],
    ['37 two-byte characters = 74 bytes', rep('é', 37), false],
    ['1 + 36×2 = 73 bytes', `a${rep('é', 36)}`, false],
    ['70 + 2 = 72 bytes', `${rep('a', 70)}é`, true],
    ['71 + 2 = 73 bytes', `${rep('a', 71)}é`, false],
    ['24 three-byte characters = 72 bytes', rep('山', 24), true],
    ['25 three-byte characters = 75 bytes', rep('山', 25), false],
    ['18 emoji = 72 bytes', rep('😀', 18), true],
    ['19 emoji = 76 bytes', rep('😀', 19), false],
    ['7 two-byte characters (14 bytes) are still too few characters', rep('é', 7), false],
    ['8 two-byte characters', rep('é', 8), true],
  ])('%s', (_label, input, ok) => {
    expect(byteLength(input) <= 72 || !ok).toBe(true);
    expect(Password.safeParse(input).success).toBe(ok);
  });

  it('names the failed rule', () => {
    expect(messages(Password, 'short12')).toEqual(['must be at least 8 characters']);
    expect(messages(Password, rep('é', 37))).toEqual(['must be at most 72 bytes in UTF-8']);
  });

  it('keeps the password exactly as given (no trimming)', () => {
    expect(value(Password, '  secret  ')).toBe('  secret  ');
    expect(messages(Password, '  abc  ')).toEqual(['must be at least 8 characters']);
  });

  it('rejects non-strings', () => {
    expect(messages(Password, 12345678)).toEqual(['must be a string']);
  });
});

describe('Fio', () => {
  it('rejects empty and whitespace-only values', () => {
    expect(messages(Fio, '')).toEqual(['must not be empty']);
    expect(messages(Fio, '   ')).toEqual(['must not be empty']);
    expect(messages(Fio, '\t\n ')).toEqual(['must not be empty']);
  });

  it('accepts 200 characters and rejects 201', () => {
    expect(value(Fio, rep('x', 200))).toBe(rep('x', 200));
    expect(messages(Fio, rep('x', 201))).toEqual(['must be at most 200 characters']);
    // per character, not per byte
    expect(value(Fio, rep('ж', 200))).toBe(rep('ж', 200));
    expect(Fio.safeParse(rep('ж', 201)).success).toBe(false);
  });

  it('trims before measuring', () => {
    expect(value(Fio, `  ${rep('x', 200)}  `)).toBe(rep('x', 200));
    expect(value(Fio, ' Иванов Иван Иванович ')).toBe('Иванов Иван Иванович');
  });

  it('accepts a one-character name', () => {
    expect(value(Fio, 'Q')).toBe('Q');
  });
});

describe('isRealDate', () => {
  it('knows the calendar', () => {
    expect(isRealDate('2020-02-29')).toBe(true);
    expect(isRealDate('2000-02-29')).toBe(true);
    expect(isRealDate('2021-02-29')).toBe(false);
    expect(isRealDate('1900-02-29')).toBe(false);
    expect(isRealDate('2023-04-30')).toBe(true);
    expect(isRealDate('2023-04-31')).toBe(false);
    expect(isRealDate('2023-12-31')).toBe(true);
    expect(isRealDate('2023-13-01')).toBe(false);
    expect(isRealDate('2023-00-10')).toBe(false);
    expect(isRealDate('2023-01-00')).toBe(false);
    expect(isRealDate('1990-1-2')).toBe(false);
  });
});

describe('Birthday', () => {
  it.each([
    ['leap day of a leap year', '2020-02-29'],
    ['leap day of 2000', '2000-02-29'],
    ['last day of April', '2023-04-30'],
    ['the earliest allowed date', '1900-01-01'],
    ['an ordinary date', '1990-01-02'],
  ])('accepts %s (%s)', (_label, input) => {
    expect(value(Birthday, input)).toBe(input);
  });

  it.each([
    ['2021-02-29', 'must be a real calendar date'],
    ['1900-02-29', 'must be a real calendar date'],
    ['2023-13-01', 'must be a real calendar date'],
    ['2023-00-10', 'must be a real calendar date'],
    ['2023-04-31', 'must be a real calendar date'],
    ['2023-01-32', 'must be a real calendar date'],
    ['1990-1-2', 'must be a date written as YYYY-MM-DD'],
    ['19900102', 'must be a date written as YYYY-MM-DD'],
    ['1990/01/02', 'must be a date written as YYYY-MM-DD'],
    ['1990-01-02T00:00:00Z', 'must be a date written as YYYY-MM-DD'],
    [' 1990-01-02', 'must be a date written as YYYY-MM-DD'],
    ['', 'must be a date written as YYYY-MM-DD'],
    ['1899-12-31', 'must not be before 1900-01-01'],
    ['1000-06-15', 'must not be before 1900-01-01'],
  ])('rejects %j with exactly one issue: %s', (input, message) => {
    expect(messages(Birthday, input)).toEqual([message]);
  });

  it.each([19900102, null, undefined, new Date('1990-01-02'), ['1990-01-02']])('rejects the non-string %j', (input) => {
    expect(messages(Birthday, input)).toEqual(['must be a string']);
  });

  it('accepts today (UTC and local) and rejects future dates', () => {
    expect(value(Birthday, utcDate(0))).toBe(utcDate(0));
    expect(value(Birthday, localToday())).toBe(localToday());
    expect(messages(Birthday, utcDate(3))).toEqual(['must not be in the future']); // tomorrow + 2 days
    expect(messages(Birthday, utcDate(2))).toEqual(['must not be in the future']);
    expect(messages(Birthday, utcDate(400))).toEqual(['must not be in the future']);
  });

  it('treats "today" as today in the easternmost time zone (UTC+14)', () => {
    const latest = latestToday();
    expect(value(Birthday, latest)).toBe(latest);
    const dayAfter = new Date(Date.parse(`${latest}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(messages(Birthday, dayAfter)).toEqual(['must not be in the future']);
    expect(latestToday(Date.parse('2024-03-10T09:59:59Z'))).toBe('2024-03-10');
    expect(latestToday(Date.parse('2024-03-10T10:00:00Z'))).toBe('2024-03-11');
  });

  it('DateString alone checks the form but not the range', () => {
    expect(value(DateString, utcDate(400))).toBe(utcDate(400));
    expect(value(DateString, '1800-01-01')).toBe('1800-01-01');
    expect(messages(DateString, '2021-02-29')).toEqual(['must be a real calendar date']);
  });
});

describe('Tags', () => {
  it('accepts an array and a comma-separated string', () => {
    expect(value(Tags, ['x', 'y'])).toEqual(['x', 'y']);
    expect(value(Tags, 'a, b,,a ')).toEqual(['a', 'b']);
    expect(value(Tags, 'one')).toEqual(['one']);
  });

  it('trims, drops empties and de-duplicates, keeping first-seen order', () => {
    expect(value(Tags, ['  b ', 'a', 'b', '', '   ', 'a'])).toEqual(['b', 'a']);
    expect(value(Tags, ' , ,, ')).toEqual([]);
    expect(value(Tags, '')).toEqual([]);
    expect(value(Tags, [])).toEqual([]);
    // composed and decomposed forms are the same tag
    expect(value(Tags, ['caf\u00e9', 'cafe\u0301'])).toEqual(['caf\u00e9']);
  });

  it('allows 20 tags and rejects 21, counted after de-duplication', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `t${i}`);
    expect(value(Tags, twenty)).toEqual(twenty);
    expect(value(Tags, twenty.join(','))).toEqual(twenty);
    expect(messages(Tags, [...twenty, 't20'])).toEqual(['must have at most 20 tags']);
    expect(messages(Tags, [...twenty, 't20'].join(','))).toEqual(['must have at most 20 tags']);
    expect(value(Tags, [...twenty, ...twenty, ' t0 '])).toEqual(twenty);
  });

  it('allows a 50-character tag and rejects 51, counted per character', () => {
    expect(value(Tags, [rep('t', 50)])).toEqual([rep('t', 50)]);
    expect(messages(Tags, [rep('t', 51)])).toEqual(['every tag must be at most 50 characters']);
    expect(value(Tags, [rep('ж', 50)])).toEqual([rep('ж', 50)]);
    expect(messages(Tags, [rep('ж', 51)])).toEqual(['every tag must be at most 50 characters']);
    expect(value(Tags, [`  ${rep('t', 50)}  `])).toEqual([rep('t', 50)]);
  });

  it.each([[['a', 5]], [[null]], [[{ tag: 'a' }]], [5], [null], [{ a: 1 }], [true]])('rejects %j', (input) => {
    expect(Tags.safeParse(input).success).toBe(false);
  });

  it('reports one issue even when the tags break two rules', () => {
    const tooMany = Array.from({ length: 21 }, (_, i) => `t${i}`);
    expect(messages(Tags, [...tooMany, rep('y', 51)])).toHaveLength(1);
  });
});

describe('normaliseTags (properties)', () => {
  const whitespace = fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u3000', '\u2000', ',');
  const tagish = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.array(fc.oneof(whitespace, fc.constantFrom('a', 'B', 'é', 'e\u0301', 'ж', '😀', '\u0301')), { maxLength: 10 }).map((cs) => cs.join('')),
  );
  const input = fc.oneof(
    fc.array(tagish, { maxLength: 15 }),
    tagish,
    fc.array(tagish, { maxLength: 8 }).map((ts) => ts.join(',')),
  );

  it('is idempotent', () => {
    fc.assert(
      fc.property(input, (x) => {
        const once = normaliseTags(x);
        expect(normaliseTags(once)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('never returns duplicates, empty, untrimmed or non-NFC strings', () => {
    fc.assert(
      fc.property(input, (x) => {
        const out = normaliseTags(x);
        expect(new Set(out).size).toBe(out.length);
        for (const t of out) {
          expect(t.length).toBeGreaterThan(0);
          expect(t.trim()).toBe(t);
          expect(t.normalize('NFC')).toBe(t);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every non-blank input tag (trimmed) and nothing else', () => {
    fc.assert(
      fc.property(fc.array(tagish, { maxLength: 15 }), (tags) => {
        const expected = new Set(tags.map((t) => t.trim().normalize('NFC')).filter((t) => t !== ''));
        expect(new Set(normaliseTags(tags))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
