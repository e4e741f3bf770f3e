import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { maskPersonal, redactSecrets, type Logger } from '@um/platform';
import type { RequestHandler, Response } from 'express';
import { loggableUrl } from './loggable-url.js';

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const MAX_LOGGED_BODY = 4096;

/**
 * `LOG_BODIES`: bodies with personal fields masked (the default), as sent (`full`), or none (`off`).
 * Secrets are redacted in every mode.
 */
export type LogBodies = 'masked' | 'full' | 'off';

/** Secrets redacted, personal fields masked unless `full`, then cut to a size a log line can carry; nothing when `off`. */
/**
 * What a client sends as `code` is a one-time code (TOTP, recovery code): a secret. In replies `code`
 * is the problem's error kind, so only request bodies have it redacted.
 */
const redactRequestCode = (value: unknown): unknown => (value && typeof value === 'object' && !Array.isArray(value) && 'code' in value ? { ...value, code: '[REDACTED]' } : value);

export function loggableRequestBody(body: unknown, mode: LogBodies): unknown {
  return loggableBody(body, mode, redactRequestCode);
}

/** Items of a list reply that are redacted and logged; the rest are only counted (a page may hold 1000 users). */
const LOGGED_ITEMS = 10;

export function loggableBody(body: unknown, mode: LogBodies, redactMore: (value: unknown) => unknown = (v) => v, bytes?: number): unknown {
  if (mode === 'off' || body === undefined || body === null || body === '') return undefined;
  let value: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      value = text;
    }
  }
  const loggable = (v: unknown) => {
    const secretless = redactMore(redactSecrets(v));
    return mode === 'masked' ? maskPersonal(secretless) : secretless;
  };
  if (Array.isArray(value) && value.length > LOGGED_ITEMS) {
    const preview = JSON.stringify(loggable(value.slice(0, LOGGED_ITEMS))).slice(0, MAX_LOGGED_BODY);
    return { truncated: true, bytes: bytes ?? JSON.stringify(value).length, items: value.length, preview };
  }
  const redacted = loggable(value);
  const json = JSON.stringify(redacted);
  if (json.length <= MAX_LOGGED_BODY) return redacted;
  return { truncated: true, bytes: json.length, preview: json.slice(0, MAX_LOGGED_BODY) };
}

/**
 * Keep what the handler sends, so the access log can show it (after redaction): the value given to
 * `res.json` as it is (not parsed back from its JSON), else what `res.send` got.
 */
export const captureResponseBody: RequestHandler = (_req, res, next) => {
  const [send, json] = [res.send.bind(res), res.json.bind(res)];
  res.json = (body?: unknown) => {
    res.locals.responseValue = body;
    return json(body);
  };
  res.send = (body?: unknown) => {
    res.locals.responseBody = body;
    return send(body);
  };
  next();
};

/** An Error as `Name: message`; anything else (a zod issue list, a reply body) in full rather than `[object Object]`. */
const describeCause = (cause: unknown) => (cause instanceof Error ? String(cause) : inspect(cause, { depth: 4, breakLength: Infinity }));

/** `value` with the path as sent replaced, in every string, by the path as logged (a 404's detail names the path it could not route). */
function unechoed(value: unknown, echoed: { sent: string; shown: string } | undefined, depth = 0): unknown {
  if (!echoed || echoed.sent === echoed.shown || depth > 8) return value;
  if (typeof value === 'string') return value.includes(echoed.sent) ? value.split(echoed.sent).join(echoed.shown) : value;
  if (Array.isArray(value)) return value.map((v) => unechoed(v, echoed, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unechoed(v, echoed, depth + 1)]));
  return value;
}

/** Fields known only once the response is done: who called, what went in and out, why it failed. */
function outcome(req: IncomingMessage, res: ServerResponse, mode: LogBodies, echoed?: { sent: string; shown: string }): Record<string, unknown> {
  const locals = (res as unknown as Response).locals ?? {};
  const error = locals.error as { id?: string; cause?: unknown } | undefined;
  const cause = error?.cause && res.statusCode >= 500 ? describeCause(error.cause) : undefined;
  return {
    user_id: locals.userId ?? null,
    request_body: loggableRequestBody((req as { body?: unknown }).body, mode),
    response_body: unechoed(
      locals.responseValue === undefined
        ? loggableBody(locals.responseBody, mode)
        : loggableBody(locals.responseValue, mode, undefined, typeof locals.responseBody === 'string' ? locals.responseBody.length : undefined),
      echoed,
    ),
    ...(error?.id ? { error_id: error.id } : {}),
    ...(cause ? { cause: mode === 'full' ? cause : maskPersonal(cause) } : {}),
  };
}

/** The level of a request's line: errors for 5xx and failed responses, warnings for 4xx. */
const levelOf = (res: ServerResponse, err: Error | undefined) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info');

/**
 * One JSON line per request: method, path, status, duration, bodies (redacted, masked as `mode`
 * says, truncated), request id (taken from X-Request-Id or made, and echoed) and user id. Written
 * when the response finishes, closes or fails, whichever comes first; a 5xx or a failed response
 * also names the error (`err`). One child logger per request carries the request's id and summary.
 */
export function accessLog(logger: Logger, mode: LogBodies = 'masked', literals: ReadonlySet<string> = new Set([''])): RequestHandler {
  const log = logger.child(
    {},
    {
      serializers: {
        res: (res: ServerResponse) => ({ status: res.statusCode }),
        err: (err: Error) => ({ type: err.name, message: err.message }),
      },
    },
  );
  return (req, res, next) => {
    const started = Date.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const url = req.originalUrl ?? req.url ?? '';
    const done = (err?: Error) => {
      res.removeListener('close', done);
      res.removeListener('finish', done);
      res.removeListener('error', done);
      const duration_ms = Date.now() - started;
      const failed = err ?? (res.statusCode >= 500 ? new Error(`failed with status code ${res.statusCode}`) : undefined);
      const fields = failed ? { res, err: failed, duration_ms } : { res, duration_ms };
      // Known only now: the route that matched, whose shape says which segments of the path name no one.
      const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
      // The URL with secret query values redacted and personal ones masked, as `GET /users?limit=1 200` shows it too.
      const path = loggableUrl(url, mode === 'full' ? 'full' : 'masked', typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : undefined, literals);
      const requestLog = log.child({ request_id: requestId, req: { method: req.method, path } });
      const echoed = mode === 'full' ? undefined : { sent: url.split('?')[0]!, shown: path.split('?')[0]! };
      requestLog[levelOf(res, err)]({ ...fields, ...outcome(req, res, mode, echoed) }, `${req.method} ${path} ${res.statusCode}`);
    };
    res.on('close', done);
    res.on('finish', done);
    res.on('error', done);
    next();
  };
}
