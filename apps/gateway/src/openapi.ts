import { ErrorBody, IdempotencyKey } from '@um/contracts';
import { OpenApiGeneratorV31, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { policy } from './access/policy.js';
import { aliasMounts } from './http/routes.js';
import type { RouteDef } from './http/route.js';

const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: ErrorBody.shape.code,
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  request_id: z.string(),
  mfa_ticket: z.string().optional().describe('With code `mfa_required`: send it with a code to POST /login/mfa'),
  expires_in: z.number().int().optional().describe('With code `mfa_required`: seconds the ticket stays valid'),
});

/** Every non-GET route honours it: a repeat with the same key within 24 h gets the first outcome (same status and body); another body with the key is 422. */
const IdempotencyHeader = z.object({
  'Idempotency-Key': IdempotencyKey.optional().describe(
    'Makes the request safe to repeat: a repeat with the same key (per caller and operation, for 24 hours) is answered with the outcome of the first, without acting again; the same key with a different body is 422. Printable ASCII, at most 255 characters.',
  ),
});

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

/** OpenAPI 3.1 document generated from the same zod schemas the gateway validates with. */
export function openApiDocument(routes: RouteDef[]): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const add = (r: RouteDef, method: string, path: string, summary: string, fixedParams: string[] = []) => {
    const rule = policy[r.route];
    const params = fixedParams.length && r.params ? null : r.params;
    registry.registerPath({
      method: method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete',
      path: path.replace(/:(\w+)/g, '{$1}'),
      summary,
      ...(rule.kind === 'public' ? {} : { security: [{ [bearer.name]: [] }] }),
      request: {
        ...(r.body ? { body: { content: { 'application/json': { schema: r.body } } } } : {}),
        ...(r.query ? { query: r.query as never } : {}),
        ...(params ? { params: params as never } : {}),
        ...(method.toUpperCase() === 'GET' ? {} : { headers: IdempotencyHeader as never }),
      },
      responses: {
        [successStatus(r.route)]:
          successStatus(r.route) === 204 ? { description: 'Done, no content' } : { description: 'Success', content: { 'application/json': { schema: r.reply ?? r.rpc.reply } } },
        default: { description: 'Error', content: { 'application/problem+json': { schema: Problem } } },
      },
    });
  };
  for (const r of routes) {
    const [method, path] = r.route.split(' ') as [string, string];
    add(r, method, path, r.summary);
  }
  // The compatible shapes: same schemas and rules, documented as what they stand for.
  for (const { def, mount } of aliasMounts(routes))
    add(def, mount.method!, mount.path!, `Same as ${def.route}${mount.params ? ' for yourself' : ''}`, Object.keys(mount.params ?? {}));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'User management API', version: '0.1.0' },
  });
}
