import { Headers as H, RpcReply, rpcSubject, queueGroup, type ErrorBody, type Rpc } from '@um/contracts';
import { headers, NoRespondersError, nuid, RequestError, TimeoutError, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import type { z } from 'zod';
import { AppError, invalidArgument, parseJson, toAppError } from './errors.js';
import type { Logger } from './logger.js';

export type { NatsConnection, Subscription };

/** What a handler knows about the call besides its payload. */
export interface RpcContext {
  requestId: string;
  actorId: string | null;
  log: Logger;
}

export type RpcHandler<R extends Rpc> = (req: z.infer<R['request']>, ctx: RpcContext) => Promise<z.infer<R['reply']>>;

export interface ServeOptions {
  namespace: string | undefined;
  /** Queue group: every replica of one service shares it, so each request goes to one replica. */
  service: string;
  log: Logger;
}

/**
 * Answer one RPC. Every outcome is a typed envelope: the handler's result, or an AppError
 * (anything else becomes `internal`, logged here with its cause). Handlers that reject can
 * never leave a caller waiting for a timeout.
 */
export function serveRpc<R extends Rpc>(nc: NatsConnection, opts: ServeOptions, rpc: R, handler: RpcHandler<R>): Subscription {
  return nc.subscribe(rpcSubject(opts.namespace, rpc.name), {
    queue: queueGroup(opts.namespace, opts.service),
    callback: (err, msg) => {
      if (err) {
        opts.log.error({ err, rpc: rpc.name }, 'subscription error');
        return;
      }
      void answer(msg);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    const started = performance.now();
    const requestId = msg.headers?.get(H.requestId) || nuid.next();
    const actorId = msg.headers?.get(H.actorId) || null;
    const log = opts.log.child({ request_id: requestId, rpc: rpc.name, ...(actorId ? { actor_id: actorId } : {}) });
    let reply: { ok: true; data: unknown } | { ok: false; error: ErrorBody };
    try {
      const payload = parseJson(msg.string());
      if (payload === undefined) throw new AppError('bad_request', 'rpc.payload_not_json', 'Request payload is not JSON');
      const parsed = rpc.request.safeParse(payload);
      if (!parsed.success) throw invalidArgument(`${rpc.name}.invalid`, parsed.error);
      const data = await handler(parsed.data as z.infer<R['request']>, { requestId, actorId, log });
      reply = { ok: true, data: rpc.reply.parse(data) };
    } catch (e) {
      const err = toAppError(e, `${rpc.name}.unexpected`);
      reply = { ok: false, error: err.toBody() };
      if (err.code === 'internal') log.error({ err: err.cause ?? err, error_id: err.id }, 'rpc failed');
    }
    const duration_ms = Math.round((performance.now() - started) * 100) / 100;
    if (reply.ok) log.info({ duration_ms, outcome: 'ok' }, 'rpc');
    else log.info({ duration_ms, outcome: reply.error.code, error_id: reply.error.id }, 'rpc');
    if (msg.reply) msg.respond(JSON.stringify(reply));
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

/** Subscribe every endpoint of a service in its queue group. */
export function serveEndpoints<D>(nc: NatsConnection, opts: ServeOptions, endpoints: Endpoint<D>[], deps: D): Subscription[] {
  return endpoints.map((e) => serveRpc(nc, opts, e.rpc, e.handler(deps)));
}

export interface CallMeta {
  requestId: string;
  actorId?: string | null;
  timeoutMs?: number;
}

/** Typed request/reply client: validates the reply against the contract, maps transport failures to AppErrors. */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string | undefined,
    private readonly defaultTimeoutMs: number,
  ) {}

  async call<R extends Rpc>(rpc: R, req: z.input<R['request']>, meta: CallMeta): Promise<z.infer<R['reply']>> {
    const h = headers();
    h.set(H.requestId, meta.requestId);
    if (meta.actorId) h.set(H.actorId, meta.actorId);
    let msg: Msg;
    try {
      msg = await this.nc.request(rpcSubject(this.namespace, rpc.name), JSON.stringify(req), {
        timeout: meta.timeoutMs ?? this.defaultTimeoutMs,
        headers: h,
      });
    } catch (e) {
      throw transportError(rpc, e);
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
