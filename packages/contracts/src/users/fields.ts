import { z } from 'zod';

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

/** Control characters (NUL above all: Postgres refuses it in text, bcrypt stops at it). */
const CONTROL = /[\u0000-\u001f\u007f]/;
export const hasNoControlChars = (s: string) => !CONTROL.test(s);

export const Username = z
  .string({ error: 'must be a string' })
  .trim()
  .transform((s) => s.normalize('NFC'))
  // `abort`: a value breaking several rules gets one issue (the first), never one per rule.
  .refine((s) => charLength(s) >= USERNAME_MIN, { error: `must be at least ${USERNAME_MIN} characters`, abort: true })
  .refine((s) => charLength(s) <= USERNAME_MAX, { error: `must be at most ${USERNAME_MAX} characters`, abort: true })
  .refine((s) => USERNAME_RE.test(s), 'may contain only letters, digits, "_", "." and "-"');

export const Email = z
  .string({ error: 'must be a string' })
  .trim()
  .max(EMAIL_MAX, `must be at most ${EMAIL_MAX} characters`)
  .pipe(z.email({ error: 'must be a valid email address' }));

export const Password = z
  .string({ error: 'must be a string' })
  .refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL characters', abort: true })
  .refine((s) => charLength(s) >= PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .refine((s) => byteLength(s) <= PASSWORD_MAX_BYTES, `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`);

export const Fio = z
  .string({ error: 'must be a string' })
  .trim()
  .refine(hasNoControlChars, { error: 'must not contain control characters', abort: true })
  .refine((s) => charLength(s) >= 1, 'must not be empty')
  .refine((s) => charLength(s) <= FIO_MAX, `must be at most ${FIO_MAX} characters`);

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

export const DateString = z
  .string({ error: 'must be a string' })
  .refine((s) => DATE_RE.test(s), 'must be a date written as YYYY-MM-DD')
  .refine((s) => !DATE_RE.test(s) || isRealDate(s), 'must be a real calendar date');

export const Birthday = DateString.refine((s) => !isRealDate(s) || s <= latestToday(), 'must not be in the future').refine(
  (s) => !isRealDate(s) || s >= BIRTHDAY_MIN,
  `must not be before ${BIRTHDAY_MIN}`,
);

/** Split, trim and de-duplicate tags; accepts an array or a comma-separated string. */
export function normaliseTags(input: string | string[]): string[] {
  const parts = (Array.isArray(input) ? input : input.split(',')).map((t) => t.trim().normalize('NFC'));
  return [...new Set(parts.filter((t) => t.length > 0))];
}

export const Tags = z
  .union([z.string(), z.array(z.string({ error: 'every tag must be a string' }))], {
    error: 'must be an array of strings or a comma-separated string',
  })
  .transform(normaliseTags)
  .refine((tags) => tags.length <= TAGS_MAX_COUNT, { error: `must have at most ${TAGS_MAX_COUNT} tags`, abort: true })
  .refine((tags) => tags.every((t) => charLength(t) <= TAG_MAX), `every tag must be at most ${TAG_MAX} characters`)
  .refine((tags) => tags.every(hasNoControlChars), 'tags must not contain control characters');
