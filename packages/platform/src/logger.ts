import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskPersonal } from './personal-data.js';
import { rememberAnswers } from './remember-answers.js';

export type { Logger };

/**
 * Keys whose values never reach a log line, at any depth we log: credentials, tokens, and what
 * carries a TOTP secret (`secret`, `otpauth_uri`, and `qr_code`, the same secret as an image).
 */
export const SECRET_KEY =
  /(^|[_-])(password|passwd|secret|token|authorization|cookie|hash|private[_-]?key|api[_-]?key|jwt|ticket|recovery[_-]?codes)$|^(otpauth[_-]?uri|qr[_-]?code)$/i;

/** `newPassword`, `new_password`, `x-api-key` and `X-Api-Key` alike; remembered per key, since every logged body asks for each of its keys. */
export const isSecretKey = rememberAnswers((key) => SECRET_KEY.test(key.replace(/([a-z0-9])([A-Z])/g, '$1_$2')));

/** Deep copy of `value` with secret-looking keys replaced; long strings and big arrays are cut. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (typeof value === 'string') return value.length > 2000 ? `${value.slice(0, 2000)}…[${value.length} chars]` : value;
  if (Array.isArray(value)) {
    const items = value.slice(0, 50).map((v) => redactSecrets(v, depth + 1));
    return value.length > 50 ? [...items, `…[${value.length} items]`] : items;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? '[REDACTED]' : redactSecrets(v, depth + 1);
    return out;
  }
  return value;
}

/** Secret keys pino itself censors at the top level and one level down (deeper payloads go through `redactSecrets`). */
const redactedKeys = ['password', 'new_password', 'password_hash', 'access_token', 'refresh_token', 'token', 'authorization', 'cookie'];

const redactPaths = [...redactedKeys.flatMap((k) => [k, `*.${k}`]), 'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization'];

/** Whether a logger masks personal data in what it is given (`masked`, the default) or writes it as it is. */
export type PersonalData = 'masked' | 'clear';

const writeAsGiven = (obj: object) => obj;

/**
 * `destination` defaults to stdout; tests pass a stream to read the lines back. Every object logged
 * goes through `maskPersonal` unless `personalData: 'clear'` (a log outlives the users it names).
 */
export function createLogger(
  name: string,
  level: string,
  { personalData = 'masked', ...options }: LoggerOptions & { personalData?: PersonalData } = {},
  destination?: DestinationStream,
): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    ...options,
    formatters: {
      ...(personalData === 'masked' ? { log: (obj: Record<string, unknown>) => maskPersonal(obj) as Record<string, unknown> } : {}),
      ...options.formatters,
    },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/**
 * A child of `log` that writes personal data as given, for the one deliberate case: the development
 * mail log (no SMTP_URL), whose job is to show the message that would have been sent.
 */
export const clearChild = (log: Logger, bindings: Record<string, unknown> = {}): Logger => log.child(bindings, { formatters: { log: writeAsGiven } });
