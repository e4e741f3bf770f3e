import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, at any depth we log. */
export const SECRET_KEY = /(^|[_-])(password|passwd|secret|token|authorization|cookie|hash|private_?key|api_?key|jwt)$/i;

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
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[REDACTED]' : redactSecrets(v, depth + 1);
    return out;
  }
  return value;
}

const redactPaths = [
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'access_token',
  '*.access_token',
  'token',
  '*.token',
];

export function createLogger(name: string, level: string, options: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    ...options,
  });
}
