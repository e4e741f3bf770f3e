/** The OpenAPI document the gateway serves (GET /openapi.json). */
import { describe, expect, it } from 'vitest';
import { requester, useGateway } from './support.js';

const h = useGateway();
const { send } = requester(() => h);

describe('GET /openapi.json', () => {
  it('the OpenAPI document shows user ids as integers: in users, in paths, in history', async () => {
    const doc = (await send('/openapi.json')).body;
    const integerId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
    const me = doc.paths['/users/me'].get.responses['200'].content['application/json'].schema;
    const user = me.$ref ? doc.components.schemas[me.$ref.split('/').pop()] : me;
    expect(user.properties.id).toMatchObject(integerId);
    for (const [path, method] of [
      ['/users/{user_id}', 'get'],
      ['/users/{user_id}', 'patch'],
      ['/users/{user_id}', 'put'],
      ['/users/{user_id}', 'delete'],
      ['/users/{user_id}/role', 'put'],
      ['/users/{user_id}/history', 'get'],
      ['/user_delete/{user_id}', 'post'],
    ] as const) {
      const param = doc.paths[path][method].parameters.find((p: { name: string }) => p.name === 'user_id');
      expect(param, `${method} ${path}`).toMatchObject({ in: 'path', required: true, schema: integerId });
    }
    const entry = doc.paths['/users/{user_id}/history'].get.responses['200'].content['application/json'].schema.items;
    expect(entry.properties.actor_id).toMatchObject({ type: ['integer', 'null'] });
    expect(JSON.stringify(doc)).not.toMatch(/"id":\{[^}]*"format":"uuid"/);
  });

  it('GET /openapi.json → an OpenAPI 3.1 document with every route', async () => {
    const a = await send('/openapi.json');
    expect(a.status).toBe(200);
    expect(a.body.openapi).toBe('3.1.0');
    expect(Object.keys(a.body.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/auth/login',
      '/auth/register',
      '/confirm-email',
      '/confirm-email/resend',
      '/email-change/cancel',
      '/email-change/confirm',
      '/healthz',
      '/login',
      '/login/mfa',
      '/logout',
      '/openapi.json',
      '/password/forgot',
      '/password/reset',
      '/readyz',
      '/refresh',
      '/refresh_jwt',
      '/register',
      '/user',
      '/user_delete/{user_id}',
      '/users',
      '/users/me',
      '/users/me/mfa/totp',
      '/users/me/mfa/totp/confirm',
      '/users/me/password',
      '/users/search',
      '/users/{user_id}',
      '/users/{user_id}/history',
      '/users/{user_id}/mfa/totp',
      '/users/{user_id}/role',
    ]);
    // each path with exactly its routes' and aliases' methods
    const methods = (path: string) => Object.keys(a.body.paths[path]).sort();
    expect(methods('/users')).toEqual(['delete', 'get', 'post', 'put']);
    expect(methods('/users/{user_id}')).toEqual(['delete', 'get', 'patch', 'put']);
    expect(a.body.paths['/users'].put.summary).toMatch(/^Change your own profile as spec 003 does/);
    // the alias for yourself has no path parameter; like every non-GET route it takes an Idempotency-Key
    expect(a.body.paths['/users'].put.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]);
    // ... but logins and refresh, answered from the current state every time, which say so.
    const fromCurrentState = ['/login', '/auth/login', '/login/mfa', '/refresh', '/refresh_jwt'];
    for (const [path, ops] of Object.entries(a.body.paths as Record<string, Record<string, { parameters?: Array<{ name: string }>; description?: string }>>))
      for (const [method, op] of Object.entries(ops)) {
        expect(
          (op.parameters ?? []).some((p) => p.name === 'Idempotency-Key'),
          `${method} ${path}`,
        ).toBe(method !== 'get' && !fromCurrentState.includes(path));
        if (fromCurrentState.includes(path)) expect(op.description, path).toMatch(/^Takes no `Idempotency-Key`: one sent is ignored/);
      }
    expect(a.body.paths['/user'].get.security).toEqual([{ bearer: [] }]);
    expect(methods('/users/me/password')).toEqual(['put']);
    expect(methods('/users/{user_id}/role')).toEqual(['put']);
    expect(methods('/refresh')).toEqual(['post']);
    expect(methods('/logout')).toEqual(['post']);
    expect(a.body.paths['/users'].post.responses['201']).toBeDefined();
    expect(a.body.paths['/logout'].post.responses['204']).toBeDefined();
    expect(a.body.paths['/users/{user_id}'].delete.responses['204']).toBeDefined();
    expect(a.body.paths['/refresh'].post.security).toEqual([]);
    expect(a.body.paths['/.well-known/jwks.json'].get.security).toEqual([]);
    for (const [path, method] of [
      ['/logout', 'post'],
      ['/users', 'post'],
      ['/users/me', 'get'],
      ['/users/me/password', 'put'],
      ['/users/{user_id}', 'get'],
      ['/users/{user_id}', 'patch'],
      ['/users/{user_id}', 'delete'],
      ['/users/{user_id}/role', 'put'],
      ['/users/{user_id}/history', 'get'],
    ] as const)
      expect(a.body.paths[path][method].security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    expect(Object.keys(a.body.paths['/users/{user_id}'].patch.requestBody.content['application/json'].schema.properties).sort()).toEqual([
      'birthday',
      'current_password',
      'email',
      'fio',
      'tags',
      'username',
    ]);
    expect(Object.keys(a.body.paths['/register'])).toEqual(['post']);
    expect(a.body.paths['/register'].post.responses['201']).toBeDefined();
    expect(a.body.paths['/register'].post.security).toEqual([]);
    expect(a.body.paths['/users'].get.security).toEqual([{ bearer: [] }]);
    expect(a.body.paths['/user_delete/{user_id}'].post.security).toEqual([{ bearer: [] }]);
    expect(a.body.paths['/user_delete/{user_id}'].post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'user_id', in: 'path', required: true })]));
    const search = a.body.paths['/users/search'].get.parameters.map((p: { name: string }) => p.name).sort();
    expect(search).toEqual(['birthday', 'cursor', 'email', 'fio', 'limit', 'offset', 'tags', 'username']);
    expect(a.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
