import type { ErrorCode, ErrorId, ErrorIdOf } from '@um/contracts';
import { AppError } from '@um/platform';
import type { Response } from 'express';

/** The one table from error kind to HTTP status. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 422,
  bad_request: 400,
  unauthenticated: 401,
  mfa_required: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  resource_exhausted: 429,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

/** The title of each status this API answers. */
export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const INVALID_TOKEN_IDS = new Set<ErrorId>([
  'auth.token_invalid',
  'auth.token_expired',
  'auth.token_revoked',
  'auth.token_claims',
  'auth.token_iat_future',
  'auth.token_lifetime',
  'auth.token_no_exp',
  'auth.token_no_iat',
]);

/** A failure of the HTTP layer itself (body parsing, media type, method) with its own status. */
export class HttpProblem extends AppError {
  constructor(
    readonly status: number,
    id: ErrorIdOf<'bad_request'>,
    message: string,
  ) {
    super('bad_request', id, message);
  }
}

/** Answer with RFC 9457 problem+json. 5xx answers never carry internals: only the request id to quote. */
export function sendProblem(res: Response, err: AppError): void {
  const status = err instanceof HttpProblem ? err.status : HTTP_STATUS[err.code];
  const detail = status === 500 ? 'An unexpected error occurred; quote the request id when reporting it' : err.message;
  const body = {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code: err.code,
    ...(err.fields?.length ? { errors: err.fields } : {}),
    ...(status < 500 ? err.extensions : {}),
    request_id: res.getHeader('x-request-id'),
  };
  if (status === 401) {
    // RFC 6750 §3: error_description may not contain '"' or '\' (a raw quote would end the quoted-string early).
    const safe = err.message.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
    // RFC 6750 §3.1: `invalid_token` for a token that was presented and refused; a missing token or
    // another scheme gets the bare challenge.
    const description = INVALID_TOKEN_IDS.has(err.id) ? `, error="invalid_token", error_description="${safe}"` : '';
    res.setHeader('WWW-Authenticate', `Bearer realm="user-management"${description}`);
  }
  if (err.retryAfterSeconds) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  res.locals.error = err;
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/** Errors raised by Express's body parsers, as problems with their HTTP status. */
export function fromHttpError(err: unknown): HttpProblem | undefined {
  const e = err as { type?: string; status?: number; statusCode?: number };
  const status = e?.status ?? e?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'http.malformed_body', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new HttpProblem(413, 'http.body_too_large', 'The request body is larger than 100 KB');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'http.unsupported_encoding', 'Unsupported content encoding or charset');
    default:
      return new HttpProblem(status, 'http.bad_request', 'The request could not be read');
  }
}
