import { z } from 'zod';
import { hasDefaultIgnorable, hasFewMarks, isModeratelyRestrictive } from './identifier-checks.js';

/** Length in user-perceived units: Unicode code points after NFC normalisation. */
export const charLength = (s: string) => Array.from(s.normalize('NFC')).length;
export const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

export const USERNAME_MIN = 6;
export const USERNAME_MAX = 36;
export const PASSWORD_MIN = 8;
/** bcrypt ignores everything past 72 bytes; longer passwords are refused, never truncated. */
export const PASSWORD_MAX_BYTES = 72;
export const FIO_MAX = 200;
export const TAGS_MAX_COUNT = 20;
export const TAG_MAX = 50;
export const EMAIL_MAX = 254;
export const BIRTHDAY_MIN = '1900-01-01';

const USERNAME_RE = /^[\p{L}\p{M}\p{Nd}_.-]+$/u;

/** Control characters: C0 (NUL above all: Postgres refuses it in text, bcrypt stops at it), DEL and C1. */
const CONTROL = /\p{Cc}/u;
export const hasNoControlChars = (s: string) => !CONTROL.test(s);

/** Bidirectional formatting characters: embeddings, overrides, isolates and the invisible direction marks. */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;
export const hasNoBidiControls = (s: string) => !BIDI_CONTROL.test(s);

/** The same two rules as JSON Schema patterns, for the API document (`u` flag: ECMA-262 with Unicode). */
export const NO_CONTROLS = '^[^\\p{Cc}]*$';
export const PLAIN_TEXT = '^[^\\p{Cc}\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c]*$';
export const NO_NUL = '^[^\\u0000]*$';

/**
 * False for a string holding a lone surrogate. JSON and JS strings may carry one; UTF-8 cannot, so
 * it would reach bcrypt or Postgres as U+FFFD and two different strings would become equal.
 */
export const isWellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
export const WELL_FORMED_MESSAGE = 'must be valid Unicode text (no unpaired surrogates)';

/** A string that is well-formed UTF-16, checked before anything else looks at it. */
export const text = (typeError = 'must be a string') => z.string({ error: typeError }).refine(isWellFormed, { error: WELL_FORMED_MESSAGE, abort: true });

/** Combining marks allowed on one character (after NFC): Vietnamese, Indic vowel signs with nukta and anusvara, Thai tone marks fit. */
export const USERNAME_MAX_MARKS = 3;

export const Username = text()
  .trim()
  .transform((s) => s.normalize('NFC'))
  // `abort`: a value breaking several rules gets one issue (the first), never one per rule.
  .refine((s) => charLength(s) >= USERNAME_MIN, { error: `must be at least ${USERNAME_MIN} characters`, abort: true })
  .refine((s) => charLength(s) <= USERNAME_MAX, { error: `must be at most ${USERNAME_MAX} characters`, abort: true })
  .refine((s) => USERNAME_RE.test(s), { error: 'may contain only letters, digits, "_", "." and "-"', abort: true })
  .refine((s) => !hasDefaultIgnorable(s), { error: 'must not contain invisible characters', abort: true })
  .refine((s) => hasFewMarks(s, USERNAME_MAX_MARKS), {
    error: `may have at most ${USERNAME_MAX_MARKS} combining marks on a character, never the same one twice in a row, and must not begin with one`,
    abort: true,
  })
  .refine((s) => /[\p{L}\p{Nd}]/u.test(s), { error: 'must contain at least one letter or digit', abort: true })
  .refine(isModeratelyRestrictive, 'must not mix scripts: use one script, or Latin with one other script except Cyrillic or Greek')
  .meta({
    minLength: USERNAME_MIN,
    maxLength: USERNAME_MAX,
    pattern: USERNAME_RE.source,
    description: `${USERNAME_MIN}–${USERNAME_MAX} letters (any script), digits, "_", "." and "-", with at least one letter or digit; one script, or Latin plus one other except Cyrillic and Greek (Unicode UTS #39); unique ignoring case and look-alikes`,
  });

export const Email = text()
  .trim()
  .max(EMAIL_MAX, `must be at most ${EMAIL_MAX} characters`)
  .pipe(z.email({ error: 'must be a valid email address' }))
  .meta({ format: 'email', maxLength: EMAIL_MAX, description: 'An email address; unique ignoring case' });

export const Password = text()
  .refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL characters', abort: true })
  .refine((s) => charLength(s) >= PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .refine((s) => byteLength(s) <= PASSWORD_MAX_BYTES, `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`)
  .meta({
    format: 'password',
    minLength: PASSWORD_MIN,
    // A character is at least one byte, so 72 bytes are at most 72 characters.
    maxLength: PASSWORD_MAX_BYTES,
    pattern: NO_NUL,
    description: `At least ${PASSWORD_MIN} characters and at most ${PASSWORD_MAX_BYTES} bytes of UTF-8; not blank, not containing the username or the email's local part (4+ characters), not one of the most common passwords`,
  });

/** The account's current password, as a proof of presence (checked against the hash, so no policy here). */
export const CurrentPassword = text('is required')
  .min(1, 'is required')
  .max(1024, 'is too long')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .meta({ pattern: NO_NUL });

export const Fio = text()
  .trim()
  .refine(hasNoControlChars, { error: 'must not contain control characters', abort: true })
  .refine(hasNoBidiControls, { error: 'must not contain bidirectional formatting characters', abort: true })
  .refine((s) => charLength(s) >= 1, 'must not be empty')
  .refine((s) => charLength(s) <= FIO_MAX, `must be at most ${FIO_MAX} characters`)
  .meta({ minLength: 1, maxLength: FIO_MAX, pattern: PLAIN_TEXT, description: `Full name: 1–${FIO_MAX} characters, no control or bidirectional formatting characters` });

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written as YYYY-MM-DD. */
export function isRealDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Today's date in the easternmost time zone (UTC+14), so nobody's "today" counts as future. */
export const latestToday = (now = Date.now()) => new Date(now + 14 * 3600_000).toISOString().slice(0, 10);

export const DateString = text()
  .refine((s) => DATE_RE.test(s), 'must be a date written as YYYY-MM-DD')
  .refine((s) => !DATE_RE.test(s) || isRealDate(s), 'must be a real calendar date')
  .meta({ format: 'date', pattern: DATE_RE.source });

export const Birthday = DateString.refine((s) => !isRealDate(s) || s <= latestToday(), 'must not be in the future')
  .refine((s) => !isRealDate(s) || s >= BIRTHDAY_MIN, `must not be before ${BIRTHDAY_MIN}`)
  .meta({ format: 'date', pattern: DATE_RE.source, description: `A real date written as YYYY-MM-DD, from ${BIRTHDAY_MIN}, not in the future` });

/** Split, trim and de-duplicate tags; accepts an array or a comma-separated string. */
export function normaliseTags(input: string | string[]): string[] {
  const parts = (Array.isArray(input) ? input : input.split(',')).map((t) => t.trim().normalize('NFC'));
  return [...new Set(parts.filter((t) => t.length > 0))];
}

const Tag = z.string({ error: 'every tag must be a string' }).meta({ maxLength: TAG_MAX, pattern: PLAIN_TEXT });

export const Tags = z
  .union(
    [
      z.string().meta({ description: `Comma-separated tags, at most ${TAGS_MAX_COUNT} of at most ${TAG_MAX} characters each`, pattern: PLAIN_TEXT }),
      z.array(Tag).meta({ maxItems: TAGS_MAX_COUNT }),
    ],
    {
      error: 'must be an array of strings or a comma-separated string',
    },
  )
  .refine((v) => (Array.isArray(v) ? v : [v]).every(isWellFormed), { error: WELL_FORMED_MESSAGE, abort: true })
  .transform(normaliseTags)
  .refine((tags) => tags.length <= TAGS_MAX_COUNT, { error: `must have at most ${TAGS_MAX_COUNT} tags`, abort: true })
  .refine((tags) => tags.every((t) => charLength(t) <= TAG_MAX), `every tag must be at most ${TAG_MAX} characters`)
  .refine((tags) => tags.every(hasNoControlChars), { error: 'tags must not contain control characters', abort: true })
  .refine((tags) => tags.every(hasNoBidiControls), 'tags must not contain bidirectional formatting characters')
  .meta({ description: `Tags: an array or one comma-separated string; trimmed and de-duplicated; at most ${TAGS_MAX_COUNT}, each at most ${TAG_MAX} characters` });
