import { IdempotencyKey, TOKEN } from '@um/contracts';
import { OpenApiGeneratorV31, OpenAPIRegistry, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { policy } from '../access/policy.js';
import { TITLES } from '../http/problem.js';
import { replyHeaders, type ReplyHeader } from '../http/reply-headers.js';
import type { RouteDef } from '../http/route.js';
import { aliasMounts } from '../http/routes.js';
import { HealthReply, ReadinessReply } from '../http/service-replies.js';
import { errorStatuses } from './error-statuses.js';
import { Problem } from './problem.js';

/** Every non-GET route honours it but logins and refresh (`Rpc.ignoresClientKey`): a repeat with the same key within 24 h gets the first outcome (same status and body); another body with the key is 422. */
const IdempotencyHeader = z.object({
  'Idempotency-Key': IdempotencyKey.optional().describe(
    'Makes the request safe to repeat: a repeat with the same key (per caller and operation, for 24 hours) is answered with the outcome of the first, without acting again; the same key with a different body is 422. Printable ASCII, at most 255 characters.',
  ),
});

/** What the API document says of the routes that take no `Idempotency-Key`. */
const CURRENT_STATE =
  "Takes no `Idempotency-Key`: one sent is ignored, and every request is answered from the current state (the login throttle, the session, refresh-token reuse), never with a reply recorded for an earlier request. To retry, send the request again; a refresh retried with the token just spent gets the same session's live token within `REFRESH_REUSE_INTERVAL`.";

const successStatus = (route: string) =>
  ({
    'POST /register': 201,
    'POST /auth/register': 201,
    'POST /users': 201,
    'POST /confirm-email/resend': 202,
    'POST /password/forgot': 202,
    'POST /logout': 204,
    'DELETE /users/:user_id': 204,
  })[route] ?? 200;

/** `POST /users/:user_id/role` → `postUsersByUserIdRole`: unique, since method and path are. */
export function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => (segment.startsWith(':') ? ['by', ...segment.slice(1).split(/[^A-Za-z0-9]+/)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

const tagOf = (path: string, alias: boolean) =>
  alias ? 'compatibility' : /^\/(healthz|readyz|openapi\.json)$/.test(path) ? 'service' : /^\/users?(\/|_|$)/.test(path) ? 'users' : 'auth';

const TAGS = [
  { name: 'auth', description: 'Registration, login, sessions, email confirmation and password recovery' },
  { name: 'users', description: 'Users, their profiles, roles, second factors and history' },
  { name: 'compatibility', description: 'The endpoint shapes of the APIs this one replaces, each the same as the operation it names' },
  { name: 'service', description: 'Liveness, readiness and this document' },
];

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/**
 * OpenAPI 3.1 document generated from the route table, the access policy and the same zod schemas
 * the gateway validates with: a new route, rule, field or limit shows here without another edit.
 */
export function openApiDocument(routes: RouteDef[]): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `An access token from POST /login: an EdDSA-signed JWT (\`typ: ${TOKEN.type}\`) with \`iss\` "${TOKEN.issuer}" and \`aud\` "${TOKEN.audience}"`,
  });
  const headerNames: Record<string, string> = {};
  const component = (name: string, h: ReplyHeader) => {
    if (!headerNames[name]) registry.registerComponent('headers', name, { description: h.description, required: h.required, schema: h.schema });
    headerNames[name] = name;
    return headerRef(name);
  };
  const requestId = component('X-Request-Id', replyHeaders.requestId);
  const wwwAuthenticate = component('WWW-Authenticate', replyHeaders.wwwAuthenticate);
  const retryAfter = component('Retry-After', replyHeaders.retryAfter);

  const problem = (status: number): ResponseConfig => ({
    description: TITLES[status] ?? 'Error',
    headers: {
      'X-Request-Id': requestId,
      ...(status === 401 ? { 'WWW-Authenticate': wwwAuthenticate } : {}),
      ...(status === 429 ? { 'Retry-After': retryAfter } : {}),
    },
    content: { 'application/problem+json': { schema: Problem } },
  });
  const success = (description: string, schema: z.ZodType | undefined, extra: Record<string, ReplyHeader> = {}): ResponseConfig => ({
    description,
    headers: { 'X-Request-Id': requestId, ...Object.fromEntries(Object.entries(extra).map(([name, h]) => [name, component(name, h)])) },
    ...(schema ? { content: { 'application/json': { schema } } } : {}),
  });

  const add = (r: RouteDef, method: string, path: string, summary: string, alias: boolean, fixedParams: string[] = []) => {
    const rule = policy[r.route];
    const params = fixedParams.length && r.params ? null : r.params;
    const status = successStatus(r.route);
    const openApiPath = path.replace(/:(\w+)/g, '{$1}');
    const body = r.body && {
      required: !r.optionalBody,
      content: {
        'application/json': { schema: r.body },
        ...(r.form ? { 'application/x-www-form-urlencoded': { schema: r.body } } : {}),
      },
    };
    const config: RouteConfig = {
      method: method.toLowerCase() as RouteConfig['method'],
      path: openApiPath,
      operationId: operationId(method, path),
      tags: [tagOf(path, alias)],
      summary,
      ...(r.rpc.ignoresClientKey ? { description: CURRENT_STATE } : {}),
      security: rule.kind === 'public' ? [] : [{ [bearer.name]: [] }],
      request: {
        ...(body ? { body } : {}),
        ...(r.query ? { query: r.query as never } : {}),
        ...(params ? { params: params as never } : {}),
        ...(method.toUpperCase() === 'GET' || r.rpc.ignoresClientKey ? {} : { headers: IdempotencyHeader as never }),
      },
      responses: {
        [status]: status === 204 ? success('Done, no content', undefined) : success('Success', r.reply ?? r.rpc.reply, r.replyHeaders),
        ...Object.fromEntries(errorStatuses(r, method).map((s) => [s, problem(s)])),
      },
    };
    registry.registerPath(config);
  };

  const service = (path: string, summary: string, responses: RouteConfig['responses']) =>
    registry.registerPath({ method: 'get', path, operationId: operationId('get', path), tags: ['service'], summary, security: [], responses });
  service('/healthz', 'Liveness: the gateway process is up', { 200: success('Up', HealthReply) });
  service('/readyz', 'Readiness: NATS connected and users-service and auth-service answering within a second', {
    200: success('Ready', ReadinessReply),
    503: success('Not ready: the failing checks say which', ReadinessReply),
  });
  service('/openapi.json', 'This document', {
    200: success('The OpenAPI 3.1 document (publicly cacheable for 5 minutes)', z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) })),
  });
  for (const r of routes) {
    const [method, path] = r.route.split(' ') as [string, string];
    add(r, method, path, r.summary, false);
  }
  // The compatible shapes: same schemas and rules, documented as what they stand for.
  for (const { def, mount } of aliasMounts(routes))
    add(def, mount.method!, mount.path!, `Same as ${def.route}${mount.params ? ' for yourself' : ''}`, true, Object.keys(mount.params ?? {}));

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'User management API',
      version: '0.1.0',
      description:
        'Registration, login, users and access control. Errors are RFC 9457 `application/problem+json`; ' +
        'every non-GET operation but login, second-factor login and refresh takes an `Idempotency-Key`; lists answer their total in `X-Total-Count` and their pages in `Link`.',
    },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: TAGS,
  });
}
