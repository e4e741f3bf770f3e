import { describe, expect, it } from 'vitest';
import { aliases, aliasMounts, buildRoutes } from '../http/routes.js';
import { authorize, policy, policyFor, type Decision, type Policy, type Principal, type RouteKey } from './policy.js';

const routes = buildRoutes();

/** Path ids as the policy sees them: canonical decimals. */
const SELF = '17';
const OTHER = '22';
const ADMIN = '33';

const user: Principal = { userId: Number(SELF), role: 'user', tokenId: 'jti-user', sessionId: '44444444-4444-4444-8444-444444444444' };
const admin: Principal = { userId: Number(ADMIN), role: 'admin', tokenId: 'jti-admin', sessionId: '55555555-5555-4555-8555-555555555555' };

type Who = 'anonymous' | 'user (self)' | 'user (other)' | 'admin';
type Row = Record<Who, Decision>;

const open: Row = { anonymous: 'allow', 'user (self)': 'allow', 'user (other)': 'allow', admin: 'allow' };
const signedIn: Row = { anonymous: 'unauthenticated', 'user (self)': 'allow', 'user (other)': 'allow', admin: 'allow' };
const selfOrAdmin: Row = { anonymous: 'unauthenticated', 'user (self)': 'allow', 'user (other)': 'forbidden', admin: 'allow' };
const adminOnly: Row = { anonymous: 'unauthenticated', 'user (self)': 'forbidden', 'user (other)': 'forbidden', admin: 'allow' };

/**
 * What every route must answer, written out by hand (not derived from the rules), so a changed
 * rule shows up here as a failed expectation. A new policy key without a row fails below.
 */
const expected: Record<RouteKey, Row> = {
  'GET /healthz': open,
  'GET /readyz': open,
  'GET /openapi.json': open,
  'GET /asyncapi.json': open,
  'GET /docs': open,
  'GET /.well-known/jwks.json': open,
  'POST /register': open,
  'POST /auth/register': open,
  'POST /login': open,
  'POST /auth/login': open,
  'POST /login/mfa': open,
  'POST /password/forgot': open,
  'POST /password/reset': open,
  'POST /refresh': open,
  'POST /refresh_jwt': open,
  'POST /logout': signedIn,
  'GET /confirm-email': open,
  'POST /confirm-email/resend': signedIn,
  'POST /email-change/confirm': open,
  'POST /email-change/cancel': open,
  'GET /users': signedIn,
  'POST /users': adminOnly,
  'GET /users/search': signedIn,
  'GET /users/me': signedIn,
  'PUT /users': signedIn,
  'PUT /users/me/password': signedIn,
  'POST /users/me/mfa/totp': signedIn,
  'POST /users/me/mfa/totp/confirm': signedIn,
  'DELETE /users/me/mfa/totp': signedIn,
  'GET /users/:user_id': signedIn,
  'PATCH /users/:user_id': selfOrAdmin,
  'DELETE /users/:user_id': selfOrAdmin,
  'PUT /users/:user_id/role': adminOnly,
  'DELETE /users/:user_id/mfa/totp': adminOnly,
  'GET /users/:user_id/history': selfOrAdmin,
  'POST /user_delete/:user_id': selfOrAdmin,
};

/** Path parameters a request to `route` would carry: the caller's own id ("self") or someone else's. */
function paramsFor(route: string, target: string): Record<string, string> {
  const names = [...route.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((n) => [n, target]));
}

/** With USER_DIRECTORY=admins, only admins browse the directory; a user still reads themselves. */
const expectedAdminsDirectory: Record<RouteKey, Row> = {
  ...expected,
  'GET /users': adminOnly,
  'GET /users/search': adminOnly,
  'GET /users/:user_id': selfOrAdmin,
};

function decide(route: RouteKey, who: Who, table: Policy = policy): Decision {
  const rule = table[route];
  switch (who) {
    case 'anonymous':
      return authorize(rule, undefined, paramsFor(route, SELF));
    case 'user (self)':
      return authorize(rule, user, paramsFor(route, SELF));
    case 'user (other)':
      return authorize(rule, user, paramsFor(route, OTHER));
    case 'admin':
      // the admin acting on someone else's resource
      return authorize(rule, admin, paramsFor(route, OTHER));
  }
}

const WHO: Who[] = ['anonymous', 'user (self)', 'user (other)', 'admin'];
const cases = (Object.keys(policy) as RouteKey[]).flatMap((route) => WHO.map((who) => [route, who, expected[route]?.[who]] as const));

describe('policy table', () => {
  it('has an expectation row for every policy entry and no stale rows', () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(policy).sort());
  });

  it.each(cases)('%s as %s → %s', (route, who, decision) => {
    expect(decision).toBeDefined();
    expect(decide(route, who)).toBe(decision);
  });

  it('is the table policyFor builds for USER_DIRECTORY=all', () => {
    expect(policyFor('all')).toEqual(policy);
  });

  it('self_or_admin rules name a parameter that exists in their path', () => {
    for (const [route, rule] of [...Object.entries(policy), ...Object.entries(policyFor('admins'))]) {
      if (rule.kind !== 'self_or_admin') continue;
      expect(route.split(' ')[1]!.split('/')).toContain(`:${rule.param}`);
    }
  });
});

describe('policy table with USER_DIRECTORY=admins', () => {
  const admins = policyFor('admins');
  const rows = (Object.keys(admins) as RouteKey[]).flatMap((route) => WHO.map((who) => [route, who, expectedAdminsDirectory[route][who]] as const));

  it('has the same routes', () => {
    expect(Object.keys(admins).sort()).toEqual(Object.keys(policy).sort());
  });

  it.each(rows)('%s as %s → %s', (route, who, decision) => {
    expect(decide(route, who, admins)).toBe(decision);
  });
});

describe('authorize', () => {
  it('public allows anyone, even without a principal or params', () => {
    expect(authorize({ kind: 'public' }, undefined, {})).toBe('allow');
  });

  it('admin-only rules refuse users and anonymous callers', () => {
    expect(authorize({ kind: 'admin' }, undefined, {})).toBe('unauthenticated');
    expect(authorize({ kind: 'admin' }, user, {})).toBe('forbidden');
    expect(authorize({ kind: 'admin' }, admin, {})).toBe('allow');
  });

  it('self_or_admin refuses a user when the parameter is missing or differs only in case', () => {
    const rule = { kind: 'self_or_admin', param: 'user_id' } as const;
    expect(authorize(rule, user, {})).toBe('forbidden');
    expect(authorize(rule, user, { user_id: undefined })).toBe('forbidden');
    expect(authorize(rule, user, { other: SELF })).toBe('forbidden');
    expect(authorize(rule, user, { user_id: `0${SELF}` })).toBe('forbidden');
    expect(authorize(rule, user, { user_id: ` ${SELF}` })).toBe('forbidden');
    expect(authorize(rule, user, { user_id: SELF })).toBe('allow');
    expect(authorize(rule, admin, {})).toBe('allow');
  });
});

describe('routes and policy agree', () => {
  const infrastructure = ['GET /healthz', 'GET /readyz', 'GET /openapi.json', 'GET /asyncapi.json', 'GET /docs'];

  it('every route has a policy entry', () => {
    const missing = routes.map((r) => r.route).filter((r) => !(r in policy));
    expect(missing).toEqual([]);
  });

  it('every policy entry except the infrastructure endpoints has a route', () => {
    const served = new Set<string>(routes.map((r) => r.route));
    const orphans = Object.keys(policy).filter((k) => !infrastructure.includes(k) && !served.has(k));
    expect(orphans).toEqual([]);
    // and the infrastructure endpoints are not also routes (they are mounted by createApp)
    expect(infrastructure.filter((k) => served.has(k))).toEqual([]);
    expect(infrastructure.every((k) => k in policy)).toBe(true);
  });

  it('no route is declared twice', () => {
    const keys = routes.map((r) => r.route);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('route keys are "METHOD /path"', () => {
    for (const key of Object.keys(policy)) expect(key).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \/[A-Za-z0-9_\-/:.]*$/);
  });
});

describe('aliases', () => {
  it('every alias points at a served route with an access rule', () => {
    const served = new Set<string>(routes.map((r) => r.route));
    for (const { alias, target } of aliases) {
      expect(served.has(target), `${alias} → ${target}`).toBe(true);
      expect(target in policy, `${alias} → ${target}`).toBe(true);
    }
    expect(aliasMounts(routes).map(({ def }) => def.route)).toEqual(aliases.map((a) => a.target));
  });

  it('an alias keeps the method and path it is written with, and its fixed parameters', () => {
    for (const [i, { def, mount }] of aliasMounts(routes).entries()) {
      const a = aliases[i]!;
      expect(`${mount.method} ${mount.path}`).toBe(a.alias);
      expect(mount.params).toEqual(a.params);
      expect(def.route).toBe(a.target);
    }
  });

  it('no alias shadows a route or another alias', () => {
    const keys = [...Object.keys(policy), ...aliases.map((a) => a.alias)];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('alias keys are "METHOD /path"', () => {
    for (const { alias } of aliases) expect(alias).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \/[A-Za-z0-9_\-/:.]*$/);
  });

  it('every path parameter of a target is either in the alias path or fixed by the alias, never both', () => {
    for (const { alias, target, params = {} } of aliases) {
      const wanted = [...target.matchAll(/:(\w+)/g)].map((m) => m[1]!).sort();
      const inPath = [...alias.matchAll(/:(\w+)/g)].map((m) => m[1]!);
      const fixed = Object.keys(params);
      expect(
        inPath.filter((p) => fixed.includes(p)),
        alias,
      ).toEqual([]);
      expect([...inPath, ...fixed].sort(), alias).toEqual(wanted);
    }
  });

  it('aliases that fix a user_id fix it to the caller ("me"), never to a concrete user', () => {
    for (const { params } of aliases) if (params?.user_id !== undefined) expect(params.user_id).toBe('me');
  });
});
