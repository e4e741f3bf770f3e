import { Username } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { policy } from '../access/policy.js';
import { aliases, buildRoutes } from '../http/routes.js';
import { openApiDocument, operationId } from './document.js';

interface Operation {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: unknown }> }>;
}

const routes = buildRoutes();
const doc = openApiDocument(routes) as {
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }>; headers: Record<string, unknown> };
};
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
const op = (method: string, path: string) => doc.paths[path]![method]!;
const statuses = (o: Operation) => Object.keys(o.responses).map(Number);

describe('the API document', () => {
  it('documents every route, alias and service endpoint once, each with a unique operationId, a summary and servers', () => {
    expect(operations).toHaveLength(routes.length + aliases.length + 3);
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.every((o) => o.op.summary)).toBe(true);
    expect(operationId('PUT', '/users/:user_id/role')).toBe('putUsersByUserIdRole');
    expect(doc.servers).toEqual([{ url: '/', description: 'This gateway' }]);
  });

  it('says `security: []` on public operations and bearer on every other', () => {
    for (const r of routes) {
      const [method, path] = r.route.split(' ') as [string, string];
      const expected = policy[r.route].kind === 'public' ? [] : [{ bearer: [] }];
      expect(op(method.toLowerCase(), path.replace(/:(\w+)/g, '{$1}')).security, r.route).toEqual(expected);
    }
    for (const path of ['/healthz', '/readyz', '/openapi.json']) expect(op('get', path).security).toEqual([]);
  });

  it("lists each operation's error statuses, derived from its input, rule and service, each a problem", () => {
    expect(statuses(op('post', '/register'))).toEqual([201, 400, 409, 413, 415, 422, 429, 500, 503, 504]);
    expect(statuses(op('get', '/users/me'))).toEqual([200, 401, 404, 500, 503, 504]);
    // Admins-only under USER_DIRECTORY=admins, so 403 is possible
    expect(statuses(op('get', '/users'))).toEqual([200, 401, 403, 422, 500, 503, 504]);
    expect(statuses(op('put', '/users/{user_id}/role'))).toEqual([200, 400, 401, 403, 404, 409, 413, 415, 422, 500, 503, 504]);
    expect(statuses(op('post', '/login'))).toContain(429);
    expect(statuses(op('get', '/.well-known/jwks.json'))).toEqual([200, 500, 503, 504]);
    expect(statuses(op('get', '/readyz'))).toEqual([200, 503]);
    for (const { key, op: o } of operations)
      for (const [status, response] of Object.entries(o.responses)) {
        expect(response.headers?.['X-Request-Id'], `${key} ${status}`).toEqual({ $ref: '#/components/headers/X-Request-Id' });
        if (Number(status) >= 400 && key !== 'GET /readyz')
          expect(response.content, `${key} ${status}`).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
        if (status === '401') expect(response.headers).toHaveProperty('WWW-Authenticate');
        if (status === '429') expect(response.headers).toHaveProperty('Retry-After');
      }
  });

  it('documents lists as arrays with X-Total-Count and Link', () => {
    for (const path of ['/users', '/users/search']) {
      const ok = op('get', path).responses['200']!;
      expect(ok.content!['application/json']!.schema).toMatchObject({ type: 'array' });
      expect(Object.keys(ok.headers!)).toEqual(['X-Request-Id', 'X-Total-Count', 'X-Total-Count-Exact', 'Link']);
    }
    expect(doc.components.headers['X-Total-Count']).toMatchObject({ required: true });
    expect(doc.components.headers.Link).toMatchObject({ required: false });
  });

  it('documents the form bodies of /login, /register (and their aliases) and the email-change links, and no other', () => {
    const withForm = operations.filter((o) => o.op.requestBody?.content['application/x-www-form-urlencoded']).map((o) => o.key);
    expect(withForm.sort()).toEqual(['POST /auth/login', 'POST /auth/register', 'POST /email-change/cancel', 'POST /email-change/confirm', 'POST /login', 'POST /register']);
  });

  it("carries the contracts' lengths, patterns, formats and enums", () => {
    const register = op('post', '/register').requestBody!.content['application/json'] as { schema: { properties: Record<string, Record<string, unknown>> } };
    const p = register.schema.properties;
    expect(p.username).toMatchObject({ minLength: 6, maxLength: 36, pattern: expect.any(String) });
    expect(p.email).toMatchObject({ format: 'email', maxLength: 254 });
    expect(p.password).toMatchObject({ minLength: 8, maxLength: 72 });
    expect(p.fio).toMatchObject({ minLength: 1, maxLength: 200, pattern: expect.any(String) });
    expect(p.birthday).toMatchObject({ format: 'date' });
    expect(p.tags).toMatchObject({ anyOf: [{ type: 'string' }, { type: 'array', maxItems: 20, items: { maxLength: 50 } }] });
    const createUser = op('post', '/users').requestBody!.content['application/json'] as { schema: { properties: Record<string, unknown> } };
    expect(createUser.schema.properties.role).toMatchObject({ enum: ['user', 'admin'] });
    expect(doc.components.schemas.User!.properties.created_at).toEqual({ type: 'string', format: 'date-time' });
  });

  it('the username pattern accepts what the contract accepts and refuses what it refuses by character', () => {
    const pattern = new RegExp(
      (op('post', '/register').requestBody!.content['application/json'] as { schema: { properties: { username: { pattern: string } } } }).schema.properties.username.pattern,
      'u',
    );
    for (const name of ['alice_1', 'Алиса_1990', 'ナカムラ_さん', 'jose.ñúñez', 'a-b.c_d1'])
      expect([name, Username.safeParse(name).success, pattern.test(name)]).toEqual([name, true, true]);
    for (const name of ['alice 1', 'alice@1', 'alice/1', 'ali\u0000ce']) expect([name, Username.safeParse(name).success, pattern.test(name)]).toEqual([name, false, false]);
  });
});
