import { rememberAnswers } from './remember-answers.js';

/**
 * Masking of personal data for logs: a log line outlives the user it mentions (an erased user must
 * not live on in it), so by default a log keeps the shape of what happened and only a hint of who.
 */

/** An email address: the first character and the domain, `a***@example.com`. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return maskText(value);
  return `${value.slice(0, 1)}***${value.slice(at)}`;
}

/** A name, username, phone: the first character, `a***`. */
export const maskText = (value: string): string => (value.length ? `${value.slice(0, 1)}***` : value);

/** A date of birth: nothing of it (not even the year). */
export const maskDate = (_value: string): string => '****-**-**';

/** Tags (`vip, berlin`, as a query or a form sends them; a list's items come one by one): each tag as `maskText` does it. */
const maskTags = (value: string): string =>
  value
    .split(',')
    .map((t) => maskText(t.trim()))
    .join(',');

type Masker = (value: string) => string;

/** Keys (snake_case, camelCase or kebab-case, any case) whose values are personal, and how each is masked. */
const PERSONAL_KEYS: Array<[RegExp, Masker]> = [
  [/^(new_|old_|current_)?e_?mail(_address)?$/, maskEmail],
  [/^(user_?name|login|fio|name|full_name|first_name|last_name|middle_name|display_name|phone|phone_number)$/, maskText],
  [/^(birthday|birth_?date|date_of_birth|dob)$/, maskDate],
  // Tags say who someone is (`diabetic`, `vip`, a team, a city): as personal as a name.
  [/^(new_|old_)?tags?$/, maskTags],
];

/** How the value under `key` is masked, or undefined when the key is not personal; remembered per key, since every log line asks for each of its keys. */
export const personalMasker = rememberAnswers((key): Masker | undefined => {
  const norm = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  return PERSONAL_KEYS.find(([re]) => re.test(norm))?.[1];
});

const EMAIL_IN_TEXT = /[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}/g;
/** Postgres constraint details name the duplicate value: `Key (email)=(alice@example.com) already exists.` */
const PG_KEY_DETAIL = /(Key \(.*?\)=\().*(\) (?:already exists|is not present|conflicts))/g;

/** Personal data inside free text (error messages and causes): email addresses and Postgres key values. */
export function maskInText(text: string): string {
  // Most strings hold neither: skip the regular expressions (they are on every logged string).
  if (!text.includes('@') && !text.includes('Key (')) return text;
  return text.replace(PG_KEY_DETAIL, '$1***$2').replace(EMAIL_IN_TEXT, maskEmail);
}

/** Every string leaf of `value` through `mask`, keeping the shape. */
function maskLeaves(value: unknown, mask: Masker, depth: number): unknown {
  if (typeof value === 'string') return mask(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskLeaves(v, mask, depth + 1));
  if (value instanceof Error) return maskError(value, depth);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v, mask, depth + 1)]));
}

/**
 * A copy of an error with its text masked; same prototype, so pino's serializer still names its
 * class. Its keys are code (`detail`, `code`, `name`), not personal data: only their text is masked.
 */
function maskError(err: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error & Record<string, unknown>;
  for (const [k, v] of Object.entries(err)) copy[k] = maskFreeText(v, depth + 1);
  copy.message = maskInText(err.message);
  if (err.stack) copy.stack = maskInText(err.stack);
  if (err.cause !== undefined) copy.cause = maskFreeText(err.cause, depth + 1);
  return copy;
}

function maskFreeText(value: unknown, depth: number): unknown {
  if (value instanceof Error) return depth > 4 ? '[error]' : maskError(value, depth);
  return maskPersonal(value, depth + 1);
}

/**
 * Deep copy of `value` with personal data masked: values under personal keys (`email`, `username`,
 * `fio`, `birthday`, …, at any depth, also inside a `{ from, to }` change), email addresses in any
 * string, and the value of a Postgres key-conflict detail. Idempotent: masking twice gives the same.
 */
export function maskPersonal(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskInText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return maskError(value, depth);
  if (Array.isArray(value)) return value.map((v) => maskPersonal(v, depth + 1));
  // Class instances (a request, a socket, a Date) are left to their serializers: walking them is slow and they are not payloads.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const masker = personalMasker(k);
    out[k] = masker ? maskLeaves(v, masker, depth + 1) : maskPersonal(v, depth + 1);
  }
  return out;
}
