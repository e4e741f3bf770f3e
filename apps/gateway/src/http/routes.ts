import { ConfirmEmail, ListUsers, Login, RegisterUser, Rpcs, SearchUsers, UserId, type UserPage } from '@um/contracts';
import type { Request } from 'express';
import { defineRoute, type RouteDef, type RouteResult } from './route.js';

/** X-Total-Count and RFC 8288 Link (next/prev) for a page, keeping the caller's other query parameters. */
export function pageResult(req: Request, page: UserPage, q: { limit: number; offset: number }): RouteResult {
  const link = (offset: number, rel: string) => {
    const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    params.set('limit', String(q.limit));
    params.set('offset', String(offset));
    return `<${req.baseUrl}${req.path}?${params.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (q.offset + q.limit < page.total) links.push(link(q.offset + q.limit, 'next'));
  if (q.offset > 0) links.push(link(Math.max(0, q.offset - q.limit), 'prev'));
  return {
    body: page.items,
    headers: { 'X-Total-Count': String(page.total), ...(links.length ? { Link: links.join(', ') } : {}) },
  };
}

const noStore = { 'Cache-Control': 'no-store' };

/** Every API route. Access rules are in access/policy.ts, keyed by the same `route` strings. */
export const routes: RouteDef[] = [
  defineRoute({
    route: 'POST /register',
    summary: 'Register a user',
    body: RegisterUser,
    rpc: Rpcs.users.register,
    handle: async ({ body }, ctx) => ({ status: 201, body: await ctx.call(Rpcs.users.register, body) }),
  }),
  defineRoute({
    route: 'POST /login',
    summary: 'Exchange username (or email) and password for an access token',
    body: Login,
    rpc: Rpcs.auth.login,
    handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.auth.login, body), headers: noStore }),
  }),
  defineRoute({
    route: 'GET /users',
    summary: 'List users ordered by id',
    query: ListUsers,
    rpc: Rpcs.users.list,
    handle: async ({ query }, ctx) => pageResult(ctx.req, await ctx.call(Rpcs.users.list, query), query),
  }),
  defineRoute({
    route: 'GET /users/search',
    summary: 'Search users: username, email, fio (substring), birthday (exact), tags (all of)',
    query: SearchUsers,
    rpc: Rpcs.users.search,
    handle: async ({ query }, ctx) => pageResult(ctx.req, await ctx.call(Rpcs.users.search, query), query),
  }),
  defineRoute({
    route: 'POST /user_delete/:user_id',
    summary: 'Delete a user (yourself, or anyone as an admin)',
    params: UserId,
    rpc: Rpcs.users.delete,
    handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.delete, params) }),
  }),
  defineRoute({
    route: 'GET /confirm-email',
    summary: 'Confirm an email address with the link sent to it',
    query: ConfirmEmail,
    rpc: Rpcs.users.confirmEmail,
    handle: async ({ query }, ctx) => ({ body: await ctx.call(Rpcs.users.confirmEmail, query), headers: noStore }),
  }),
  defineRoute({
    route: 'POST /confirm-email/resend',
    summary: 'Send a fresh confirmation link to your address (rate-limited)',
    rpc: Rpcs.users.requestEmailConfirmation,
    handle: async (_input, ctx) => ({ status: 202, body: await ctx.call(Rpcs.users.requestEmailConfirmation, { user_id: ctx.principal!.userId }) }),
  }),
];
