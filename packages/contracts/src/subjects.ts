import { z } from 'zod';

/** Optional prefix for every subject, stream, consumer and bucket name (`NATS_NAMESPACE`). */
export const Namespace = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-" only, at most 32 characters');

const prefix = (ns: string | undefined, sep: string) => (ns ? `${ns}${sep}` : '');

/** Request/reply subjects: callers publish here, services subscribe in queue groups. */
export const rpcSubject = (ns: string | undefined, name: string) => `${prefix(ns, '.')}um.rpc.${name}`;

/** Event subjects: only the publisher of the event writes here; listeners subscribe. */
export const eventSubject = (ns: string | undefined, type: string) => `${prefix(ns, '.')}um.evt.${type}`;

/** Queue group name shared by all replicas of one service. */
export const queueGroup = (ns: string | undefined, service: string) => `${prefix(ns, '_')}${service}`;

/** JetStream stream, consumer and KV bucket names (no dots allowed in those). */
export const streamName = (ns: string | undefined, name: string) => `${prefix(ns, '_')}${name}`;
export const bucketName = (ns: string | undefined, name: string) => `${prefix(ns, '_')}${name}`;

/** Names of the NATS objects the system creates, before namespacing. */
export const Buckets = {
  /** Token revocations, watched by every gateway replica. */
  revocations: 'um_revocations',
} as const;

/** JetStream streams and durable consumers, before namespacing. */
export const Streams = {
  /** Every event users-service publishes, on subjects `um.evt.users.<Type>`. */
  usersEvents: 'UM_USERS_EVENTS',
} as const;
export const Consumers = {
  /** mail-service's durable consumer of the users events. */
  mail: 'mail_service',
  /** auth-service's durable consumer of user deletions (erases sessions and throttle rows). */
  auth: 'auth_service',
} as const;

/** Subject of a published users event, and the wildcard covering all of them. */
export const usersEventSubject = (ns: string | undefined, type: string) => eventSubject(ns, `users.${type}`);
export const usersEventWildcard = (ns: string | undefined) => eventSubject(ns, 'users.>');

/** Header names carried on every RPC request. */
export const Headers = {
  requestId: 'x-request-id',
  actorId: 'x-actor-id',
  /**
   * The caller's access token, which the gateway forwards on every call it makes for a signed-in
   * user. On an RPC the gateway may call, the service takes the actor from this verified token
   * only: an `x-actor-id` without it counts for nothing.
   */
  accessToken: 'x-access-token',
  /** On every `write` RPC: repeats with the same key (per caller and RPC) get the first outcome. */
  idempotencyKey: 'idempotency-key',
  /**
   * On a request: the interval (ms) at which the caller wants signs of life while it is worked on;
   * on a message to the reply subject: this is one (empty) sign of life, not the answer.
   */
  progress: 'um-progress',
} as const;

/** How long a recorded idempotency key answers repeats (as payment APIs do): 24 hours. */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600;

/** A client's `Idempotency-Key`: printable ASCII, not blank, at most 255 characters. */
export const IdempotencyKey = z
  .string()
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$/, 'must be printable ASCII and not blank');
