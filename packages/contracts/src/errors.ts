import { z } from 'zod';

/** The closed set of error kinds shared by every service; the gateway maps each to one HTTP status. */
export const ErrorCode = z.enum([
  'invalid_argument',
  'bad_request',
  'unauthenticated',
  /** The password was right; a second factor is needed to finish the login (401, with an MFA ticket). */
  'mfa_required',
  'permission_denied',
  'not_found',
  'already_exists',
  'resource_exhausted',
  'unavailable',
  'timeout',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** One invalid input field: `field` is a dotted path into the request body or query. */
export const FieldError = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof FieldError>;

/** The error half of every RPC reply. `id` names the throw site, stable across releases. */
export const ErrorBody = z.object({
  code: ErrorCode,
  id: z.string(),
  message: z.string(),
  fields: z.array(FieldError).optional(),
  /** For `resource_exhausted`: when trying again makes sense. */
  retry_after_seconds: z.number().int().positive().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

const envelope = <T extends z.ZodType>(data: T) => z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: ErrorBody })]);
/** Built once per reply schema: building a zod schema costs more than parsing a reply with it. */
const envelopes = new WeakMap<z.ZodType, z.ZodType>();

/** Envelope of every NATS reply: `{ok: true, data}` or `{ok: false, error}`. */
export function RpcReply<T extends z.ZodType>(data: T): ReturnType<typeof envelope<T>> {
  let built = envelopes.get(data);
  if (!built) envelopes.set(data, (built = envelope(data)));
  return built as ReturnType<typeof envelope<T>>;
}
