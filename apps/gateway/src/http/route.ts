import { IdempotencyKey, Rpcs, type Rpc } from '@um/contracts';
import { AppError, invalidArgument, uuidv7, type RpcClient, type TokenVerifier } from '@um/platform';
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { DirectorySettings } from '../access/directory.js';
import { authorize, type Policy, type Principal, type RouteKey } from '../access/policy.js';
import { HttpProblem, sendProblem } from './problem.js';
import type { ReplyHeader } from './reply-headers.js';

export interface RouteContext {
  requestId: string;
  principal: Principal | undefined;
  req: Request;
  /** What this deployment lets callers see of other users. */
  directory: DirectorySettings;
  /** Forward to a service with this request's id and caller. */
  call<R extends Rpc>(rpc: R, input: z.input<R['request']>): Promise<z.infer<R['reply']>>;
  /**
   * Refuse unless the caller is present: a sign-in of this session within REAUTH_WINDOW, or their
   * current password, throttled like a login (auth-service checks). For routes that declare
   * `auth.reauthenticate` in `alsoRpcs`.
   */
  reauthenticate(currentPassword: string | undefined): Promise<void>;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteDef<B extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, P extends Schema | undefined = Schema | undefined> {
  route: RouteKey;
  summary: string;
  /** The RPC this route forwards to; `ctx.call` refuses any RPC not declared here or in `alsoRpcs`. */
  rpc: Rpc;
  /**
   * Every other RPC the handler may call: a route that stands for several operations (spec 003's
   * `PUT /users`: password, profile, or the password alone and then the user as it is) declares each.
   */
  alsoRpcs?: readonly Rpc[];
  /** What the route answers, for the API document, when it is not the RPC's reply as it is. */
  reply?: z.ZodType;
  body?: B;
  /** The body may be left out (no Content-Type, nothing sent): it is then validated as `{}`. */
  optionalBody?: boolean;
  /** The body may also come as an HTML form (`application/x-www-form-urlencoded`); elsewhere a form is 415. */
  form?: boolean;
  /** Headers the success answer carries besides X-Request-Id, by name, for the API document. */
  replyHeaders?: Record<string, ReplyHeader>;
  query?: Q;
  /** Path parameters that fail this schema name nothing that exists: 404. */
  params?: P;
  handle(input: { body: Out<B>; query: Out<Q>; params: Out<P> }, ctx: RouteContext): Promise<RouteResult>;
}

export const defineRoute = <B extends Schema | undefined, Q extends Schema | undefined, P extends Schema | undefined>(def: RouteDef<B, Q, P>) => def as unknown as RouteDef;

export interface RouteDeps {
  rpc: Pick<RpcClient, 'call'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  /** The access rules, as built from this deployment's settings. */
  policy: Policy;
  directory: DirectorySettings;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

async function authenticate(req: Request, verifier: RouteDeps['verifier']): Promise<{ principal: Principal; token: string }> {
  const header = req.headers.authorization;
  if (!header) throw new AppError('unauthenticated', 'auth.missing_token', 'A bearer token is required');
  const match = BEARER.exec(header.trim());
  if (!match) throw new AppError('unauthenticated', 'auth.token_malformed', 'The Authorization header must be "Bearer <token>"');
  return { principal: await verifier.verify(match[1]!), token: match[1]! };
}

/** Path parameters as the policy and the schemas see them: `me` is the caller (their id in decimal). */
function resolveParams(params: Record<string, string>, principal: Principal | undefined, fixed: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { ...params, ...fixed };
  if (out.user_id === 'me' && principal) out.user_id = String(principal.userId);
  return out;
}

/** A path naming no user: the same answer as for an id no user has, on every route. */
const noSuchUser = () => new AppError('not_found', 'users.not_found', 'User not found');

/**
 * Path parameters that cannot name anything (a user id that is not a whole number from 1 to
 * 2^53 − 1, nor `me`) are 404 before anything else: whoever asks, whatever the method, as for an
 * id that no user has. `me` stands for any caller here; it is resolved once the caller is known.
 */
function checkPathShape(def: RouteDef, params: Record<string, string>, fixed: Record<string, string> = {}): void {
  if (!def.params) return;
  const shape = { ...params, ...fixed };
  if (shape.user_id === 'me') shape.user_id = '1';
  if (!def.params.safeParse(shape).success) throw noSuchUser();
}

/**
 * The key that makes a write safe to repeat: the client's `Idempotency-Key` (on every non-GET
 * route; a repeat with the same key gets the first outcome for 24 h), else one made for this
 * request, so the gateway's own retries of an unanswered attempt never act twice. Logins and
 * refresh (`Rpc.ignoresClientKey`) always get one of their own: a client's key is ignored, not
 * refused, so old clients that send one everywhere keep working.
 */
function idempotencyKey(req: Request, method: string, rpc: Rpc): string | undefined {
  if (method === 'GET') return undefined;
  const given = rpc.ignoresClientKey ? undefined : req.get('idempotency-key');
  if (given === undefined) return `gw-${uuidv7()}`;
  const key = IdempotencyKey.safeParse(given);
  if (!key.success) throw new AppError('bad_request', 'http.idempotency_key_invalid', 'The Idempotency-Key header must be printable ASCII, at most 255 characters');
  return key.data;
}

/** Where and how a route is mounted: its own path, or an alias path with fixed parameters. */
export interface Mount {
  path?: string;
  method?: string;
  params?: Record<string, string>;
  /** Reshape a successful reply body (an old API's field names, see old-names.ts). */
  view?: (body: never) => unknown;
}

/** Mount one route: authenticate, authorize by the policy table, validate, handle, answer. */
export function mountRoute(router: Router, def: RouteDef, deps: RouteDeps, mount: Mount = {}): void {
  const [ownMethod, ownPath] = def.route.split(' ') as [string, string];
  const [method, path] = [mount.method ?? ownMethod, mount.path ?? ownPath];
  const rule = deps.policy[def.route];
  const handler = async (req: Request, res: Response) => {
    const requestId = String(res.getHeader('x-request-id'));
    try {
      checkPathShape(def, req.params as Record<string, string>, mount.params);
      const caller = rule.kind === 'public' ? undefined : await authenticate(req, deps.verifier);
      const principal = caller?.principal;
      if (principal) res.locals.userId = principal.userId;
      const resolved = resolveParams(req.params as Record<string, string>, principal, mount.params);
      const decision = authorize(rule, principal, resolved);
      if (decision === 'forbidden') throw new AppError('permission_denied', 'access.forbidden', 'You are not allowed to do this');
      if (decision === 'unauthenticated') throw new AppError('unauthenticated', 'auth.missing_token', 'A bearer token is required');

      const params = def.params ? def.params.safeParse(resolved) : undefined;
      if (params && !params.success) throw noSuchUser();
      const query = def.query ? def.query.safeParse(req.query) : undefined;
      if (query && !query.success) throw invalidArgument('http.invalid_query', query.error);
      if (def.body && req.body === undefined && def.optionalBody && !req.headers['content-type'] && !Number(req.headers['content-length'] ?? 0)) req.body = {};
      if (def.body && (req.body === undefined || (!def.form && req.is('application/x-www-form-urlencoded'))))
        throw new HttpProblem(415, 'http.unsupported_media_type', 'Send the body as application/json');
      if (def.body && (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)))
        throw new AppError('bad_request', 'http.body_not_object', 'The request body must be a JSON object');
      const body = def.body ? def.body.safeParse(req.body) : undefined;
      if (body && !body.success) throw invalidArgument('http.invalid_body', body.error);
      const key = idempotencyKey(req, method.toUpperCase(), def.rpc);

      // The token goes along: users-service and auth-service take the actor from it, not from x-actor-id alone.
      const actor = caller ? { actorId: String(caller.principal.userId), accessToken: caller.token } : { actorId: null };
      const forward = <R extends Rpc>(rpc: R, input: z.input<R['request']>) => deps.rpc.call(rpc, input, { requestId, ...actor, ...(key ? { idempotencyKey: key } : {}) });
      const undeclared = (name: string) =>
        new AppError('internal', 'gateway.undeclared_rpc', 'Internal error', undefined, {
          cause: new Error(`${def.route} calls ${name}, declared ${[def.rpc, ...(def.alsoRpcs ?? [])].map((r) => r.name).join(', ')}`),
        });
      const ctx: RouteContext = {
        requestId,
        principal,
        req,
        directory: deps.directory,
        call: (rpc, input) => {
          if (rpc !== def.rpc && !def.alsoRpcs?.includes(rpc)) throw undeclared(rpc.name);
          return forward(rpc, input);
        },
        reauthenticate: async (currentPassword) => {
          if (!def.alsoRpcs?.includes(Rpcs.auth.reauthenticate) || !principal) throw undeclared(Rpcs.auth.reauthenticate.name);
          await forward(Rpcs.auth.reauthenticate, {
            user_id: principal.userId,
            session_id: principal.sessionId,
            ...(currentPassword !== undefined ? { current_password: currentPassword } : {}),
          });
        },
      };
      const handled = await def.handle({ body: body?.data, query: query?.data, params: params?.data }, ctx);
      const result = mount.view && handled.body !== undefined ? { ...handled, body: mount.view(handled.body as never) } : handled;
      for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
      res.status(result.status ?? 200);
      if (result.body === undefined || result.status === 204) res.end();
      else res.json(result.body);
    } catch (e) {
      const err = e instanceof AppError ? e : new AppError('internal', 'gateway.unexpected', 'Internal error', undefined, { cause: e });
      sendProblem(res, err);
    }
  };
  (router as unknown as Record<string, (p: string, h: typeof handler) => void>)[method.toLowerCase()]!(path, handler);
}
