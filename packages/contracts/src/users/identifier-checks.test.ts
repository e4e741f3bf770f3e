import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ChangePasswordBody, Login, Refresh } from '../auth/requests.js';
import { Email, Fio, Password, Tags, Username, WELL_FORMED_MESSAGE } from './fields.js';
import { hasFewMarks, isModeratelyRestrictive } from './identifier-checks.js';
import { RegisterUser, SearchUsers, SetPassword, UpdateUserBody, VerifyCredentials } from './requests.js';

/** The messages of a failed parse; fails the test when the parse succeeded. */
function messages(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${JSON.stringify(r.data)}`);
  return r.error.issues.map((i) => i.message);
}

const MIXED = 'must not mix scripts: use one script, or Latin with one other script except Cyrillic or Greek';
const INVISIBLE = 'must not contain invisible characters';
const MARKS = 'may have at most 3 combining marks on a character, never the same one twice in a row, and must not begin with one';

describe('Username: the look-alikes from the issue are refused, each naming its rule', () => {
  it.each([
    ['Cyrillic а (U+0430) among Latin letters', 'root_\u0430dmin', MIXED],
    ['Hangul filler U+3164 in front', '\u3164root_admin', INVISIBLE],
    ['Hangul choseong filler U+115F in front', '\u115Froot_admin', INVISIBLE],
    ['combining grapheme joiner U+034F inside', 'root\u034Fadmin', INVISIBLE],
    ['variation selector U+FE0F inside', 'root\uFE0Fadmin', INVISIBLE],
    ['30 stacked combining acute accents', `a${'\u0301'.repeat(30)}bcdef`, MARKS],
    ['only punctuation', '......', 'must contain at least one letter or digit'],
    ['only punctuation, mixed', '_-._-.', 'must contain at least one letter or digit'],
  ])('%s', (_label, input, message) => {
    expect(messages(Username, input)).toEqual([message]);
  });
});

describe('Username: combining marks', () => {
  it('allows up to three on a character, as real scripts need', () => {
    expect(Username.parse('nguyễn_văn_a')).toBe('nguyễn_văn_a');
    expect(Username.parse('क़िंग_देव')).toBe('क़िंग_देव'); // nukta + vowel sign + anusvara on one consonant
    expect(Username.parse('กี่ครั้ง')).toBe('กี่ครั้ง'); // Thai vowel + tone mark
    expect(Username.parse(`abcde${'\u0301\u0323\u0302'}`)).toBeTruthy();
  });

  it('refuses a fourth, a repeated one, and one with nothing to sit on', () => {
    expect(messages(Username, `abcdex${'\u0301\u0323\u0302\u0308'}`)).toEqual([MARKS]);
    expect(messages(Username, 'abcdex\u0323\u0323')).toEqual([MARKS]);
    expect(messages(Username, '\u0301abcdef')).toEqual([MARKS]);
    expect(hasFewMarks('e\u0301', 3)).toBe(true);
    expect(hasFewMarks('\u0301', 3)).toBe(false);
  });

  it('counts after NFC: a decomposed accent that composes is no mark at all', () => {
    expect(Username.parse(`e\u0301${'e\u0301'.repeat(5)}`)).toBe('\u00e9'.repeat(6));
  });
});

describe('Username: scripts (UTS #39 moderately restrictive)', () => {
  it.each([
    ['Latin', 'john_doe'],
    ['Cyrillic', 'иван_петров'],
    ['Greek', 'αλέξανδρος'],
    ['Japanese: Latin + Han + Hiragana + Katakana', 'yamada_山田さんカタ'],
    ['Chinese with Bopomofo and Latin', 'li_李ㄅㄆ'],
    ['Korean: Hangul + Han + Latin', 'kim_김철수_金'],
    ['Latin + Arabic', 'ali_علي'],
    ['Latin + Devanagari', 'raj_राजेश'],
    ['Latin + Hebrew', 'dan_דניאל'],
    ['digits go with any script', 'иван_1990'],
    ['Katakana-Hiragana prolonged sound mark (two scripts)', 'らーめん_ラーメン'],
  ])('accepts %s', (_label, name) => {
    expect(Username.parse(name)).toBe(name.normalize('NFC'));
  });

  it.each([
    ['Latin + Cyrillic', 'paypal_\u0440'],
    ['all-Cyrillic look-alike plus a Latin l', '\u0440\u0430\u0443\u0440\u0430l_1'],
    ['Latin + Greek omicron', 'g\u03bfogle'],
    ['Cyrillic + Greek', 'Жанна_Ωμέγα'],
    ['Latin + two other scripts', 'ali_علي_राज'],
    ['Arabic + Hebrew without Latin', 'علي_דניאל'],
    ['Hangul + Hiragana', 'kim_김さん'],
  ])('refuses %s', (_label, name) => {
    expect(messages(Username, name)).toEqual([MIXED]);
  });

  it('is the same rule for the pure function', () => {
    expect(isModeratelyRestrictive('abc')).toBe(true);
    expect(isModeratelyRestrictive('___')).toBe(true);
    expect(isModeratelyRestrictive('a\u0430')).toBe(false);
  });

  it('never refuses a plain ASCII name that the character rules allow (property)', () => {
    const ascii = fc.stringMatching(/^[A-Za-z0-9_.-]{5,35}[A-Za-z0-9]$/);
    fc.assert(
      fc.property(ascii, (name) => {
        expect(Username.parse(name)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every Latin name with one Cyrillic look-alike swapped in (property)', () => {
    const lookalikes: Record<string, string> = { a: '\u0430', e: '\u0435', o: '\u043e', p: '\u0440', c: '\u0441', x: '\u0445', y: '\u0443' };
    const name = fc.stringMatching(/^[a-z]{6,20}$/).filter((s) => /[aeopcxy]/.test(s));
    fc.assert(
      fc.property(name, fc.nat(), (s, pick) => {
        const positions = [...s].map((c, i) => (c in lookalikes ? i : -1)).filter((i) => i >= 0);
        const at = positions[pick % positions.length]!;
        const spoof = s.slice(0, at) + lookalikes[s[at]!]! + s.slice(at + 1);
        // All-Cyrillic would be a single script; one swap among Latin letters is a mix unless every letter was swapped.
        const r = Username.safeParse(spoof);
        if ([...s].every((c) => c in lookalikes)) return;
        expect(r.success).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('well-formed text: a lone surrogate is refused before anything else reads it', () => {
  it.each([
    ['Username', Username, 'ab\ud800cdef'],
    ['Email', Email, 'a\udc00@example.com'],
    ['Password', Password, 'password\ud800x'],
    ['Fio', Fio, 'a\ud800'],
    ['Tags (array)', Tags, ['ok', 'b\ud800']],
    ['Tags (string)', Tags, 'ok, b\udfff'],
  ] as const)('%s', (_label, schema, input) => {
    expect(messages(schema as z.ZodType, input)).toEqual([WELL_FORMED_MESSAGE]);
  });

  it('keeps surrogate pairs (emoji, rare Han) as they are', () => {
    expect(Fio.parse('Ann 😀 𠀀')).toBe('Ann 😀 𠀀');
    expect(Password.parse('😀😀😀😀😀😀😀😀')).toBe('😀😀😀😀😀😀😀😀');
  });

  it('two passwords differing only in their lone surrogate can never both be stored', () => {
    // Both would encode to the same UTF-8 (U+FFFD) and so to the same bcrypt input.
    expect(Buffer.from('pass\ud800word').equals(Buffer.from('pass\udbffword'))).toBe(true);
    expect(Password.safeParse('pass\ud800word').success).toBe(false);
    expect(Password.safeParse('pass\udbffword').success).toBe(false);
  });

  it('applies to logins, password changes, refreshes, searches and the internal password RPCs', () => {
    const path = (r: { error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) => r.error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(path(Login.safeParse({ username: 'alice\ud800', password: 'x' }))).toEqual([['username', WELL_FORMED_MESSAGE]]);
    expect(path(Login.safeParse({ username: 'alice', password: 'x\udc00' }))).toEqual([['password', WELL_FORMED_MESSAGE]]);
    expect(path(ChangePasswordBody.safeParse({ current_password: 'x\ud800', new_password: 'good new password' }))).toEqual([['current_password', WELL_FORMED_MESSAGE]]);
    expect(path(ChangePasswordBody.safeParse({ current_password: 'x', new_password: 'good new pass\ud800' }))).toEqual([['new_password', WELL_FORMED_MESSAGE]]);
    expect(path(Refresh.safeParse({ refresh_token: 'tok\ud800' }))).toEqual([['refresh_token', WELL_FORMED_MESSAGE]]);
    expect(path(SearchUsers.safeParse({ fio: 'x\ud800' }))).toEqual([['fio', WELL_FORMED_MESSAGE]]);
    expect(path(VerifyCredentials.safeParse({ username: 'alice', password: 'x\ud800' }))).toEqual([['password', WELL_FORMED_MESSAGE]]);
    expect(SetPassword.safeParse({ user_id: '01900000-0000-7000-8000-000000000001', password: 'new pass\ud800' }).success).toBe(false);
    expect(path(UpdateUserBody.safeParse({ fio: 'a\ud800' }))).toEqual([['fio', WELL_FORMED_MESSAGE]]);
  });

  it('a registration with the issue\'s fio "a\\ud800" gets one field error', () => {
    const r = RegisterUser.safeParse({ username: 'alice_01', email: 'a@example.com', password: 'correct horse', fio: 'a\ud800', birthday: '1990-01-02' });
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['fio', WELL_FORMED_MESSAGE]]);
  });
});

describe('fio and tags: bidi controls and C1 controls', () => {
  it.each([
    ['RLO (U+202E)', 'Ann\u202Egnp.exe'],
    ['LRE (U+202A)', '\u202AAnn'],
    ['RLI (U+2067)', 'Ann\u2067x\u2069'],
    ['PDI (U+2069)', 'Ann\u2069'],
    ['RLM (U+200F)', 'Ann\u200F'],
    ['LRM (U+200E)', 'Ann\u200E'],
    ['Arabic letter mark (U+061C)', 'Ann\u061C'],
  ])('fio refuses %s', (_label, input) => {
    expect(messages(Fio, input)).toEqual(['must not contain bidirectional formatting characters']);
    expect(messages(Tags, ['ok', input])).toEqual(['tags must not contain bidirectional formatting characters']);
  });

  it.each([
    ['U+0080', 'Ann\u0080'],
    ['U+0085 (next line)', 'Ann\u0085Lee'],
    ['U+009B (CSI)', 'Ann\u009B31m'],
    ['U+009F', 'Ann\u009F'],
  ])('fio and tags refuse the C1 control %s', (_label, input) => {
    expect(messages(Fio, input)).toEqual(['must not contain control characters']);
    expect(messages(Tags, [input])).toEqual(['tags must not contain control characters']);
  });

  it('still accept right-to-left names and the characters next to the ranges', () => {
    expect(Fio.parse('محمد علي')).toBe('محمد علي');
    expect(Fio.parse('דניאל כהן')).toBe('דניאל כהן');
    expect(Fio.parse('Zoë\u00A0Ünal')).toBe('Zoë\u00A0Ünal'); // U+00A0 is just past C1
    expect(Tags.parse(['עברית', 'x\u2065y'])).toEqual(['עברית', 'x\u2065y']);
  });
});
