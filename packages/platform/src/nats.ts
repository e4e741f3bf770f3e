import { Headers as H, IdempotencyKey, RpcReply, rpcSubject, queueGroup, type ErrorBody, type Rpc } from '@um/contracts';
import { headers, NoRespondersError, nuid, RequestError, TimeoutError, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import type { z } from 'zod';
import type { Pool } from './db.js';
import { AppError, invalidArgument, parseJson, toAppError } from './errors.js';
import type { IdempotencyStore, IdempotentCall } from './idempotency.js';
import type { Logger } from './logger.js';
import { rpcDurations, throttleRefusals, type Histogram, type Registry } from './metrics.js';
import { ProgressRequester, sendProgress, SilenceError } from './rpc-progress.js';
import { RetryPolicy } from './rpc-retry.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

export type { NatsConnection, Subscription };

/** What a handler knows about the call besides its payload. */
export interface RpcContext {
  requestId: string;
  actorId: string | null;
  /** On an RPC the gateway may call: the forwarded access token, verified (its `sub` is actorId). */
  caller?: VerifiedToken;
  log: Logger;
  /**
   * A `write` with an idempotency key: record its outcome in the write's transaction
   * (`IdempotencyStore.record`); one that does not is recorded right after it answers.
   */
  idempotency?: IdempotentCall;
}

export type RpcHandler<R extends Rpc> = (req: z.infer<R['request']>, ctx: RpcContext) => Promise<z.infer<R['reply']>>;

export interface ServeOptions {
  namespace: string | undefined;
  /** Queue group: every replica of one service shares it, so each request goes to one replica. */
  service: string;
  log: Logger;
  /** Where this service records the outcomes of `write` RPCs by idempotency key. */
  idempotency?: { store: IdempotencyStore; pool: Pool };
  /** Counts the requests in hand, so a stop can wait for them. */
  inFlight?: InFlight;
  /** Where answer times and throttle refusals are counted. */
  metrics?: Registry;
  /**
   * Verifies the access token the gateway forwards. With it, on every RPC the gateway may call,
   * the actor is the verified token's `sub` and an `x-actor-id` alone counts for nothing (anyone
   * holding a gateway's NATS credentials could assert one). Without it (tests of this module),
   * `x-actor-id` is taken as given. Internal RPCs, which NATS lets only other services call, keep
   * taking `x-actor-id` as given.
   */
  tokens?: Pick<TokenVerifier, 'verify'>;
}

/** Requests being answered right now; `idle()` resolves when none are left. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  track<T>(p: Promise<T>): Promise<T> {
    this.count++;
    return p.finally(() => {
      if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  get size(): number {
    return this.count;
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Errors that a repeat of the same request would meet again: recorded for its key. Others (internal, unavailable, timeout) may pass. */
const DETERMINISTIC = new Set<string>(['invalid_argument', 'bad_request', 'not_found', 'already_exists', 'permission_denied', 'unauthenticated']);

/**
 * Answer one RPC. Every outcome is a typed envelope: the handler's result, or an AppError
 * (anything else becomes `internal`, logged here with its cause). Handlers that reject can
 * never leave a caller waiting for a timeout.
 */
export function serveRpc<R extends Rpc>(nc: NatsConnection, opts: ServeOptions, rpc: R, handler: RpcHandler<R>): Subscription {
  const envelope = RpcReply(rpc.reply);
  const durations = opts.metrics && rpcDurations(opts.metrics, 'server');
  const refusals = opts.metrics && throttleRefusals(opts.metrics);
  const checksTokens = opts.tokens !== undefined && rpc.callers.includes('gateway');
  return nc.subscribe(rpcSubject(opts.namespace, rpc.name), {
    queue: queueGroup(opts.namespace, opts.service),
    callback: (err, msg) => {
      if (err) {
        opts.log.error({ err, rpc: rpc.name }, 'subscription error');
        return;
      }
      const answering = answer(msg);
      void (opts.inFlight ? opts.inFlight.track(answering) : answering);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    const started = performance.now();
    const stopProgress = sendProgress(msg);
    const requestId = msg.headers?.get(H.requestId) || nuid.next();
    const asserted = msg.headers?.get(H.actorId) || null;
    let actorId = checksTokens ? null : asserted;
    let log = opts.log.child({ request_id: requestId, rpc: rpc.name, ...(asserted ? { actor_id: asserted } : {}) });
    let reply: { ok: true; data: unknown } | { ok: false; error: ErrorBody };
    let idempotency: IdempotentCall | undefined;
    let caller: VerifiedToken | undefined;
    try {
      if (checksTokens) {
        caller = await verifiedCaller(msg, asserted);
        actorId = caller ? String(caller.userId) : null;
        if (asserted && !caller) log = log.child({ actor_unverified: true });
      }
      const payload = parseJson(msg.string());
      if (payload === undefined) throw new AppError('bad_request', 'rpc.payload_not_json', 'Request payload is not JSON');
      const parsed = rpc.request.safeParse(payload);
      if (!parsed.success) throw invalidArgument(`${rpc.name}.invalid`, parsed.error);
      idempotency = idempotentCall(msg, parsed.data, actorId);
      const recorded = idempotency && (await opts.idempotency!.store.find(opts.idempotency!.pool, idempotency));
      if (recorded) {
        log.info({ idempotent_replay: true }, 'repeated request answered with its recorded outcome');
        reply = envelope.parse(recorded);
      } else {
        const data = await handler(parsed.data as z.infer<R['request']>, { requestId, actorId, log, ...(caller ? { caller } : {}), ...(idempotency ? { idempotency } : {}) });
        reply = { ok: true, data: rpc.reply.parse(data) };
        if (idempotency && !idempotency.recorded) await opts.idempotency!.store.recordAfter(opts.idempotency!.pool, idempotency, reply);
      }
    } catch (e) {
      reply = await failed(e, idempotency, log);
    }
    const duration_ms = Math.round((performance.now() - started) * 100) / 100;
    durations?.observe({ rpc: rpc.name, outcome: reply.ok ? 'ok' : reply.error.code }, duration_ms / 1000);
    if (!reply.ok && reply.error.code === 'resource_exhausted') refusals?.inc({ rpc: rpc.name, reason: reply.error.id });
    if (reply.ok) log.info({ duration_ms, outcome: 'ok' }, 'rpc');
    else log.info({ duration_ms, outcome: reply.error.code, error_id: reply.error.id }, 'rpc');
    stopProgress();
    if (msg.reply) msg.respond(JSON.stringify(reply));
  }

  /**
   * The caller of an RPC the gateway may call: the forwarded token, verified (a bad one is refused
   * as unauthenticated, one naming someone else than `x-actor-id` as permission denied); no token, no caller.
   */
  async function verifiedCaller(msg: Msg, asserted: string | null): Promise<VerifiedToken | undefined> {
    const token = msg.headers?.get(H.accessToken);
    if (!token) return undefined;
    const verified = await opts.tokens!.verify(token);
    if (asserted && asserted !== String(verified.userId)) throw new AppError('permission_denied', 'rpc.actor_not_token_subject', 'You are not allowed to do this');
    return verified;
  }

  function idempotentCall(msg: Msg, request: unknown, actorId: string | null): IdempotentCall | undefined {
    const key = msg.headers?.get(H.idempotencyKey);
    if (rpc.kind !== 'write' || !key || !opts.idempotency) return undefined;
    const valid = IdempotencyKey.safeParse(key);
    if (!valid.success) throw new AppError('bad_request', 'rpc.idempotency_key_invalid', 'The idempotency key must be printable ASCII, at most 255 characters');
    return opts.idempotency.store.call(rpc.name, actorId, valid.data, request);
  }

  /**
   * The envelope of a failed call. With a key, a concurrent repeat may have committed the write
   * meanwhile (this one then failed on its unique indexes or on the key itself): its recorded outcome
   * is the answer. Otherwise a deterministic refusal is recorded, so a repeat gets the same answer.
   */
  async function failed(e: unknown, idem: IdempotentCall | undefined, log: Logger): Promise<{ ok: true; data: unknown } | { ok: false; error: ErrorBody }> {
    let err = toAppError(e, `${rpc.name}.unexpected`);
    if (idem && opts.idempotency && err.id !== 'idempotency.key_reused') {
      try {
        const recorded = await opts.idempotency.store.find(opts.idempotency.pool, idem);
        if (recorded) return envelope.parse(recorded);
        const body = err.toBody();
        if (DETERMINISTIC.has(err.code) && err.id !== 'idempotency.in_flight') await opts.idempotency.store.recordAfter(opts.idempotency.pool, idem, { ok: false, error: body });
      } catch (lookup) {
        err = toAppError(lookup, `${rpc.name}.idempotency`);
      }
    }
    if (err.code === 'internal') log.error({ err: err.cause ?? err, error_id: err.id }, 'rpc failed');
    return { ok: false, error: err.toBody() };
  }
}

/** One RPC a service answers, and how to build its handler from the service's dependencies. */
export interface Endpoint<D> {
  rpc: Rpc;
  handler: (deps: D) => RpcHandler<Rpc>;
}

/** `const endpoint = endpointFor<MyDeps>()`, then `endpoint(Rpcs.x.y, (deps) => async (req, ctx) => …)`, typed by the contract. */
export const endpointFor =
  <D>() =>
  <R extends Rpc>(rpc: R, handler: (deps: D) => RpcHandler<R>): Endpoint<D> => ({ rpc, handler });

/** The endpoints of a service, answering; `drain` stops taking requests and waits for those in hand. */
export interface RpcServer {
  subscriptions: Subscription[];
  drain(): Promise<void>;
}

/** Subscribe every endpoint of a service in its queue group. */
export function serveEndpoints<D>(nc: NatsConnection, opts: ServeOptions, endpoints: Endpoint<D>[], deps: D): RpcServer {
  const inFlight = opts.inFlight ?? new InFlight();
  const subscriptions = endpoints.map((e) => serveRpc(nc, { ...opts, inFlight }, e.rpc, e.handler(deps)));
  return {
    subscriptions,
    drain: async () => {
      // The server stops routing to this replica first; messages already delivered are still answered.
      await Promise.all(subscriptions.map((s) => s.drain().catch(() => undefined)));
      await inFlight.idle();
    },
  };
}

export interface CallMeta {
  requestId: string;
  actorId?: string | null;
  /** The caller's access token, forwarded so the service can verify who the actor is. */
  accessToken?: string;
  /** Overall deadline of the call, all attempts included (default: the client's). */
  timeoutMs?: number;
  /** For `write` RPCs: the caller's key; without one the client makes one per call. */
  idempotencyKey?: string;
}

/**
 * Typed request/reply client: validates the reply against the contract, maps transport failures to
 * AppErrors. An attempt whose responder falls silent (no sign of life for the subject's silence
 * timeout: the replica died holding it) of an RPC that is safe to repeat (every `read`; every
 * `write`, which always carries an idempotency key) is asked again within the deadline, likely of
 * another replica (queue groups pick one at random); "no responders" is asked again with a backoff
 * for a short while (a replica restarting), then fails as unavailable (503).
 */
export class RpcClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly durations: Histogram<'rpc' | 'outcome'> | undefined;
  private readonly requester: ProgressRequester;

  constructor(
    nc: NatsConnection,
    private readonly namespace: string | undefined,
    private readonly defaultTimeoutMs: number,
    readonly retry: RetryPolicy = new RetryPolicy(),
    sleep?: (ms: number) => Promise<void>,
    /** Where call times (retries included) are counted by RPC and outcome. */
    metrics?: Registry,
  ) {
    this.sleep = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.durations = metrics && rpcDurations(metrics, 'client');
    this.requester = new ProgressRequester(nc);
  }

  async call<R extends Rpc>(rpc: R, req: z.input<R['request']>, meta: CallMeta): Promise<z.infer<R['reply']>> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await this.send(rpc, req, meta);
    } catch (e) {
      outcome = e instanceof AppError ? e.code : 'internal';
      throw e;
    } finally {
      this.durations?.observe({ rpc: rpc.name, outcome }, (performance.now() - started) / 1000);
    }
  }

  private async send<R extends Rpc>(rpc: R, req: z.input<R['request']>, meta: CallMeta): Promise<z.infer<R['reply']>> {
    const h = headers();
    h.set(H.requestId, meta.requestId);
    if (meta.actorId) h.set(H.actorId, meta.actorId);
    if (meta.accessToken) h.set(H.accessToken, meta.accessToken);
    if (rpc.kind === 'write') h.set(H.idempotencyKey, meta.idempotencyKey ?? `rpc-${nuid.next()}`);
    const subject = rpcSubject(this.namespace, rpc.name);
    const payload = JSON.stringify(req);
    const total = meta.timeoutMs ?? this.defaultTimeoutMs;
    const started = performance.now();
    const policy = this.retry;
    let [timeouts, unanswered] = [0, 0];
    let msg: Msg;
    for (;;) {
      const attemptStarted = performance.now();
      const remaining = total - (attemptStarted - started);
      try {
        msg = await this.requester.attempt(subject, payload, h, {
          timeoutMs: Math.max(1, remaining),
          silenceMs: policy.silenceTimeout(subject),
          progressIntervalMs: policy.options.progressIntervalMs,
          onSignOfLife: (gap) => policy.observe(subject, gap),
        });
        break;
      } catch (e) {
        const err = transportError(rpc, e);
        const elapsed = performance.now() - started;
        if (err.id === 'rpc.no_responders') {
          const pause = policy.backoff(++unanswered);
          if (elapsed + pause < Math.min(total, policy.options.unavailableRetryMs)) {
            await this.sleep(pause);
            continue;
          }
        } else if (e instanceof SilenceError && ++timeouts < policy.options.attempts && elapsed < total - 1) continue;
        throw err;
      }
    }
    const reply = RpcReply(rpc.reply).safeParse(parseJson(msg.string()));
    if (!reply.success) throw new AppError('internal', 'rpc.bad_reply', 'Internal error', undefined, { cause: reply.error });
    if (!reply.data.ok) throw AppError.fromBody(reply.data.error);
    return reply.data.data as z.infer<R['reply']>;
  }
}

function transportError(rpc: Rpc, e: unknown): AppError {
  const cause = e instanceof Error ? e.cause : undefined;
  if (e instanceof NoRespondersError || cause instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()))
    return new AppError('unavailable', 'rpc.no_responders', `The ${rpc.service} service is not available`, undefined, { cause: e });
  if (e instanceof TimeoutError || cause instanceof TimeoutError)
    return new AppError('timeout', 'rpc.timeout', `The ${rpc.service} service did not answer in time`, undefined, { cause: e });
  return new AppError('unavailable', 'rpc.transport', `The ${rpc.service} service could not be reached`, undefined, { cause: e });
}
