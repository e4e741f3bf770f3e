/** Security and cache headers on every route's success and error answers. */
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { policy } from '../src/access/policy.js';
import { DOCS_CSP } from '../src/http/docs-page.js';
import { aliasRequests, protectedRequests, replyByRpc, routeRequester, type RouteRequest, validRegistration } from './route-requests.js';
import { expectProblem, newSub, requester, signToken, startGateway, useGateway, userReply, type Answer } from './support.js';

const h = useGateway();
const { send, postJson } = requester(() => h);
const { requestOf } = routeRequester(send);

describe('security headers', () => {
  /** One request per public route (the protected ones are in `protectedRequests`). */
  const publicRequests: Record<string, RouteRequest> = {
    'GET /healthz': { method: 'GET', path: () => '/healthz', ok: 200, rpc: '' },
    'GET /readyz': { method: 'GET', path: () => '/readyz', ok: 200, rpc: '' },
    'GET /openapi.json': { method: 'GET', path: () => '/openapi.json', ok: 200, rpc: '' },
    'GET /asyncapi.json': { method: 'GET', path: () => '/asyncapi.json', ok: 200, rpc: '' },
    'GET /docs': { method: 'GET', path: () => '/docs', ok: 200, rpc: '' },
    'GET /.well-known/jwks.json': { method: 'GET', path: () => '/.well-known/jwks.json', ok: 200, rpc: 'auth.jwks' },
    'POST /register': { method: 'POST', path: () => '/register', body: validRegistration, ok: 201, rpc: 'users.register' },
    'POST /login': { method: 'POST', path: () => '/login', body: { username: 'alice_1', password: 'secret pass' }, ok: 200, rpc: 'auth.login' },
    'POST /refresh': { method: 'POST', path: () => '/refresh', body: { refresh_token: 'abc' }, ok: 200, rpc: 'auth.refresh' },
    'POST /refresh_jwt': { method: 'POST', path: () => '/refresh_jwt?refresh_token=abc', ok: 200, rpc: 'auth.refresh' },
    'POST /auth/register': {
      method: 'POST',
      path: () => '/auth/register',
      body: { name: 'Alice', email: 'alice@example.com', password: 'correct horse battery' },
      ok: 201,
      rpc: 'users.register',
    },
    'POST /auth/login': { method: 'POST', path: () => '/auth/login', body: { email: 'alice@example.com', password: 'secret pass' }, ok: 200, rpc: 'auth.login' },
    'GET /confirm-email': { method: 'GET', path: () => '/confirm-email?token=abc', ok: 200, rpc: 'users.confirm_email' },
    'POST /login/mfa': { method: 'POST', path: () => '/login/mfa', body: { ticket: 't', code: '123456' }, ok: 200, rpc: 'auth.login_mfa' },
    'POST /password/forgot': { method: 'POST', path: () => '/password/forgot', body: { email: 'a@example.com' }, ok: 202, rpc: 'users.request_password_reset' },
    'POST /password/reset': { method: 'POST', path: () => '/password/reset', body: { token: 't', password: 'a new password 1' }, ok: 200, rpc: 'auth.reset_password' },
    'POST /email-change/confirm': { method: 'POST', path: () => '/email-change/confirm', body: { token: 't' }, ok: 200, rpc: 'users.confirm_email_change' },
    'POST /email-change/cancel': { method: 'POST', path: () => '/email-change/cancel', body: { token: 't' }, ok: 200, rpc: 'auth.cancel_email_change' },
  };
  const everyRoute = { ...publicRequests, ...protectedRequests, ...aliasRequests };
  /** The explicitly public, cacheable answers; everything else is no-store. */
  const cacheable: Record<string, string> = {
    'GET /.well-known/jwks.json': 'public, max-age=300',
    'GET /openapi.json': 'public, max-age=300',
    'GET /asyncapi.json': 'public, max-age=300',
    'GET /docs': 'public, max-age=300',
  };
  /** The docs page runs scripts of its own origin; every other answer none at all. */
  const policies: Record<string, string> = { 'GET /docs': DOCS_CSP };

  function expectSecurityHeaders(a: Answer, cacheControl = 'no-store', csp = "default-src 'none'; frame-ancestors 'none'") {
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    expect(a.headers.get('x-frame-options')).toBe('DENY');
    expect(a.headers.get('content-security-policy')).toBe(csp);
    expect(a.headers.get('referrer-policy')).toBe('no-referrer');
    expect(a.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(a.headers.get('cache-control')).toBe(cacheControl);
    // plain http here: no HSTS
    expect(a.headers.get('strict-transport-security')).toBeNull();
  }

  const reply = (rpc: string, input: any) => {
    if (rpc === 'auth.jwks') return { keys: [h.key.jwk] };
    if (rpc === 'users.confirm_email') return userReply();
    return replyByRpc(rpc, input);
  };

  it('covers every route in the policy table and every alias', () => {
    expect(Object.keys({ ...publicRequests, ...protectedRequests }).sort()).toEqual(Object.keys(policy).sort());
  });

  it.each(Object.entries(everyRoute))('%s: on its success answer', async (_key, r) => {
    h.rpc.reply = reply;
    const self = newSub();
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self, role: 'admin' }) });
    expect(a.status, a.text).toBe(r.ok);
    expectSecurityHeaders(a, cacheable[_key], policies[_key]);
  });

  // (the liveness probe, the API documents, their page and the metrics are answered by the gateway itself and cannot fail)
  const canFail = Object.entries(everyRoute).filter(([k]) => !['GET /healthz', 'GET /openapi.json', 'GET /asyncapi.json', 'GET /docs'].includes(k));
  it.each(canFail)('%s: on its error answer', async (_key, r) => {
    h.rpc.reply = () => {
      throw new AppError('unavailable', 'rpc.no_responders', 'The service is not available');
    };
    h.readiness.value = { ok: false, checks: { nats: 'unavailable', users: 'unavailable', auth: 'unavailable' } };
    const self = newSub();
    const a = await requestOf(r, self, { token: await signToken(h.key, { sub: self, role: 'admin' }) });
    expect(a.status, a.text).toBeGreaterThanOrEqual(400);
    // (/readyz answers its own 503 body, not a problem)
    if (_key !== 'GET /readyz') expectProblem(a, a.status);
    expectSecurityHeaders(a);
  });

  it.each([
    ['an unknown path', () => send('/nowhere')],
    ['a wrong method', () => send('/register', { method: 'GET' })],
    ['malformed JSON', () => send('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })],
    ['no token', () => send('/users/me')],
    ['a body too large', () => postJson('/register', { fio: 'x'.repeat(200_000) })],
  ])('problem answers carry them too: %s', async (_name, request) => {
    const a = await request();
    expectProblem(a, a.status);
    expectSecurityHeaders(a);
  });

  it('adds Strict-Transport-Security only to a request that came over https (as a trusted proxy reports)', async () => {
    const behindProxy = await startGateway(undefined, { trustProxy: 'loopback' });
    try {
      const viaProxy = requester(() => behindProxy);
      const https = await viaProxy.send('/healthz', { headers: { 'x-forwarded-proto': 'https' } });
      const http = await viaProxy.send('/healthz', { headers: { 'x-forwarded-proto': 'http' } });
      expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(http.headers.get('strict-transport-security')).toBeNull();
      // an untrusted client cannot turn it on by claiming https
      expect((await send('/healthz', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    } finally {
      await behindProxy.close();
    }
  });
});
