import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactSecrets, type Logger } from '@um/platform';
import type { RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const MAX_LOGGED_BODY = 4096;

/** Query parameters that carry secrets (links with one-time tokens). */
const SECRET_QUERY = /^(token|access_token|refresh_token|code|password)$/i;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_QUERY.test(key)) params.set(key, '[REDACTED]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Secrets redacted, then cut to a size a log line can carry. */
export function loggableBody(body: unknown): unknown {
  if (body === undefined || body === null || body === '') return undefined;
  let value = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
  }
  const redacted = redactSecrets(value);
  const json = JSON.stringify(redacted);
  if (json.length <= MAX_LOGGED_BODY) return redacted;
  return { truncated: true, bytes: json.length, preview: json.slice(0, MAX_LOGGED_BODY) };
}

/** Keep what the handler sends, so the access log can show it (after redaction). */
export const captureResponseBody: RequestHandler = (_req, res, next) => {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    res.locals.responseBody = body;
    return send(body);
  };
  next();
};

/** `GET /users?limit=1 200`, with secret query values redacted. */
const summary = (req: IncomingMessage, res: ServerResponse) => `${req.method} ${redactUrl((req as { originalUrl?: string }).originalUrl ?? req.url ?? '')} ${res.statusCode}`;

/** Fields known only once the response is done: who called, what went in and out, why it failed. */
function outcome(req: IncomingMessage, res: ServerResponse): Record<string, unknown> {
  const locals = (res as unknown as Response).locals ?? {};
  const error = locals.error as { id?: string; cause?: unknown } | undefined;
  return {
    user_id: locals.userId ?? null,
    request_body: loggableBody((req as { body?: unknown }).body),
    response_body: loggableBody(locals.responseBody),
    ...(error?.id ? { error_id: error.id } : {}),
    ...(error?.cause && res.statusCode >= 500 ? { cause: String(error.cause) } : {}),
  };
}

/**
 * One JSON line per request: method, path, status, duration, bodies (redacted, truncated),
 * request id (taken from X-Request-Id or made, and echoed) and user id.
 */
export function accessLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    wrapSerializers: false,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    serializers: {
      req: (req: IncomingMessage & { originalUrl?: string }) => ({ method: req.method, path: redactUrl(req.originalUrl ?? req.url ?? '') }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
      err: (err: Error) => ({ type: err.name, message: err.message }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: summary,
    customErrorMessage: summary,
    customSuccessObject: (req, res, val) => ({ ...val, ...outcome(req, res) }),
    customErrorObject: (req, res, _err, val) => ({ ...val, ...outcome(req, res) }),
  }) as unknown as RequestHandler;
}
