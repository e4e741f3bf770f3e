import type { ErrorBody, ErrorCode, ErrorCodeAndId, ErrorId, ErrorIdOf, FieldError } from '@um/contracts';
import type { z } from 'zod';

type AppErrorOptions = { cause?: unknown; retryAfterSeconds?: number; extensions?: Record<string, unknown> };

/**
 * The one error type of the system. `id` names the throw site (stable, greppable), one of the
 * registry's (`ERROR_IDS`) with its code; `message` is safe to show a client; internals go to
 * `cause`, which only logs see.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly id: ErrorId;
  readonly fields: FieldError[] | undefined;

  constructor(...[code, id, message, fields, options]: [...ErrorCodeAndId, message: string, fields?: FieldError[], options?: AppErrorOptions]) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.id = id;
    this.fields = fields;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.extensions = options?.extensions;
  }

  /**
   * Extra members of the HTTP problem (RFC 9457 §3.2), for the client: e.g. the ticket of an
   * `mfa_required` login. Set by the gateway only; never sent over NATS.
   */
  readonly extensions: Record<string, unknown> | undefined;

  /** For `resource_exhausted`: seconds until a retry can succeed. */
  readonly retryAfterSeconds: number | undefined;

  toBody(): ErrorBody {
    return {
      code: this.code,
      id: this.id,
      message: this.message,
      ...(this.fields?.length ? { fields: this.fields } : {}),
      ...(this.retryAfterSeconds ? { retry_after_seconds: this.retryAfterSeconds } : {}),
    };
  }

  static fromBody(body: ErrorBody): AppError {
    // The reply of one of our own services: its id is one of the registry's.
    return new AppError(...([body.code, body.id] as ErrorCodeAndId), body.message, body.fields, { retryAfterSeconds: body.retry_after_seconds });
  }
}

/** One entry per invalid field, with its dotted path. */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  const add = (path: string, message: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    out.push({ field: path, message });
  };
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    // An unknown key is named itself, so a client sees which of its fields is not one.
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) add(path ? `${path}.${key}` : key, 'is not a known field');
    else add(path || prefix || '(body)', issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message);
  }
  return out;
}

export function invalidArgument(id: ErrorIdOf<'invalid_argument'>, error: z.ZodError): AppError {
  const fields = fieldErrors(error);
  return new AppError('invalid_argument', id, `Invalid input: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, fields);
}

/** Wrap anything thrown into an AppError; unknown errors become `internal` with the original kept as cause. */
export function toAppError(err: unknown, id: ErrorIdOf<'internal'> = 'internal.unexpected'): AppError {
  if (err instanceof AppError) return err;
  return new AppError('internal', id, 'Internal error', undefined, { cause: err });
}

/** JSON.parse that answers `undefined` for text that is not JSON (the schema check then refuses it). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
