import {
  ConfirmTotpBody,
  DisableTotpBody,
  ForgotPasswordBody,
  LoginMfa,
  ResetPasswordBody,
  ChangePasswordBody,
  ConfirmEmail,
  CreateUser,
  EmailConfirmationResult,
  ListUsers,
  Login,
  LoginReply,
  Refresh,
  RegisterUser,
  Rpcs,
  SearchUsers,
  SetRoleBody,
  PublicUser,
  UpdateUserBody,
  User,
  UserId,
  type UserPage,
} from '@um/contracts';
import { AppError } from '@um/platform';
import type { Request } from 'express';
import { z } from 'zod';
import { checkSearchFilters, shownTo } from '../access/directory.js';
import type { RouteKey } from '../access/policy.js';
import { deviceCookie, readDeviceCookie } from './device-cookie.js';
import { replyHeaders } from './reply-headers.js';
import { defineRoute, type Mount, type RouteContext, type RouteDef, type RouteResult } from './route.js';

/** X-Total-Count and RFC 8288 Link (next/prev) for a page, keeping the caller's other query parameters. */
export function pageResult(req: Request, page: { items: unknown[]; total: number }, q: { limit: number; offset: number }): RouteResult {
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

/** The headers `pageResult` sets, for the API document. */
const pageHeaders = { 'X-Total-Count': replyHeaders.totalCount, Link: replyHeaders.link };

const noStore = { 'Cache-Control': 'no-store' };

/** A page of users as the caller may see them (see access/directory.ts). */
const shownPage = (ctx: RouteContext, page: UserPage) => ({ ...page, items: page.items.map((u) => shownTo(ctx.directory, ctx.principal!, u)) });

/** A user in full, or in public form to a non-admin when the directory shows public fields only. */
const UserAsShown = z.union([User, PublicUser]).describe('The user; without `email` and `config.birthday` to other non-admins when USER_DIRECTORY_FIELDS=public');
const LogoutQuery = z.object({ all: z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).optional() });
const clientIp = (req: Request) => req.ip ?? req.socket.remoteAddress ?? undefined;

/**
 * Every API route. Access rules are in access/policy.ts, keyed by the same `route` strings. Order
 * matters where paths overlap: fixed segments (`/users/search`, `/users/me`) before `/users/:user_id`.
 */
export const routes: RouteDef[] = [
  defineRoute({
    route: 'POST /register',
    summary: 'Register a user',
    body: RegisterUser,
    form: true,
    rpc: Rpcs.users.register,
    handle: async ({ body }, ctx) => ({ status: 201, body: await ctx.call(Rpcs.users.register, { ...body, client_ip: clientIp(ctx.req) }) }),
  }),
  defineRoute({
    route: 'POST /login',
    summary: 'Exchange username (or email) and password for tokens',
    body: Login,
    form: true,
    replyHeaders: { 'Set-Cookie': replyHeaders.deviceCookie },
    rpc: Rpcs.auth.login,
    reply: LoginReply,
    handle: async ({ body }, ctx) => {
      const answer = await ctx.call(Rpcs.auth.login, { ...body, client_ip: clientIp(ctx.req), device_token: readDeviceCookie(ctx.req) });
      if ('mfa_ticket' in answer)
        throw new AppError('mfa_required', 'auth.mfa_required', 'The password is right; send a code of your second factor with this ticket to POST /login/mfa', undefined, {
          extensions: { mfa_ticket: answer.mfa_ticket, expires_in: answer.expires_in },
        });
      const { device_token, ...reply } = answer;
      return { body: reply, headers: { ...noStore, 'Set-Cookie': deviceCookie(device_token, ctx.req.secure) } };
    },
  }),
  defineRoute({
    route: 'POST /login/mfa',
    summary: 'Finish a login that answered 401 `mfa_required`: its ticket and a TOTP or recovery code, for tokens',
    body: LoginMfa,
    replyHeaders: { 'Set-Cookie': replyHeaders.deviceCookie },
    rpc: Rpcs.auth.loginMfa,
    reply: LoginReply,
    handle: async ({ body }, ctx) => {
      const { device_token, ...reply } = await ctx.call(Rpcs.auth.loginMfa, { ...body, client_ip: clientIp(ctx.req), device_token: readDeviceCookie(ctx.req) });
      return { body: reply, headers: { ...noStore, 'Set-Cookie': deviceCookie(device_token, ctx.req.secure) } };
    },
  }),
  defineRoute({
    route: 'POST /password/forgot',
    summary: 'Ask for a password reset link by email (the same 202 whether or not the account exists; rate-limited)',
    body: ForgotPasswordBody,
    rpc: Rpcs.users.requestPasswordReset,
    handle: async ({ body }, ctx) => ({
      status: 202,
      body: await ctx.call(Rpcs.users.requestPasswordReset, { login: (body.email ?? body.username)!, client_ip: clientIp(ctx.req) }),
      headers: noStore,
    }),
  }),
  defineRoute({
    route: 'POST /password/reset',
    summary: 'Set a new password with the token of a reset link; every session of the account ends',
    body: ResetPasswordBody,
    rpc: Rpcs.auth.resetPassword,
    handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.auth.resetPassword, body), headers: noStore }),
  }),
  defineRoute({
    route: 'POST /refresh',
    summary: 'Rotate a refresh token: new access and refresh tokens, the old refresh token spent',
    body: Refresh,
    rpc: Rpcs.auth.refresh,
    handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.auth.refresh, body), headers: noStore }),
  }),
  defineRoute({
    route: 'POST /logout',
    summary: 'End this session (or, with ?all=true, all of your sessions)',
    query: LogoutQuery,
    rpc: Rpcs.auth.logout,
    handle: async ({ query }, ctx) => {
      const p = ctx.principal!;
      await ctx.call(Rpcs.auth.logout, { user_id: p.userId, session_id: p.sessionId, all: query.all === 'true' || query.all === '1' });
      return { status: 204 };
    },
  }),
  defineRoute({
    route: 'GET /.well-known/jwks.json',
    summary: 'Public keys that verify access tokens',
    rpc: Rpcs.auth.jwks,
    handle: async (_input, ctx) => ({ body: await ctx.call(Rpcs.auth.jwks, {}), headers: { 'Cache-Control': 'public, max-age=300' } }),
  }),
  defineRoute({
    route: 'GET /confirm-email',
    summary: 'Confirm an email address with the link sent to it',
    query: ConfirmEmail,
    rpc: Rpcs.users.confirmEmail,
    reply: EmailConfirmationResult,
    // Only the outcome: a confirmation link gets forwarded and opened by others, the user object is not theirs.
    handle: async ({ query }, ctx) => {
      await ctx.call(Rpcs.users.confirmEmail, query);
      return { body: { status: 'confirmed' } satisfies EmailConfirmationResult, headers: noStore };
    },
  }),
  defineRoute({
    route: 'POST /confirm-email/resend',
    summary: 'Send a fresh confirmation link to your address (rate-limited)',
    rpc: Rpcs.users.requestEmailConfirmation,
    handle: async (_input, ctx) => ({ status: 202, body: await ctx.call(Rpcs.users.requestEmailConfirmation, { user_id: ctx.principal!.userId }) }),
  }),
  defineRoute({
    route: 'GET /users',
    summary: 'List users ordered by id',
    query: ListUsers,
    replyHeaders: pageHeaders,
    rpc: Rpcs.users.list,
    reply: z.array(UserAsShown),
    handle: async ({ query }, ctx) => pageResult(ctx.req, shownPage(ctx, await ctx.call(Rpcs.users.list, query)), query),
  }),
  defineRoute({
    route: 'POST /users',
    summary: 'Create a user (admins), choosing the role',
    body: CreateUser,
    rpc: Rpcs.users.register,
    handle: async ({ body }, ctx) => ({ status: 201, body: await ctx.call(Rpcs.users.register, body) }),
  }),
  defineRoute({
    route: 'GET /users/search',
    summary: 'Search users: username, email, fio (substring), birthday (exact), tags (all of)',
    query: SearchUsers,
    replyHeaders: pageHeaders,
    rpc: Rpcs.users.search,
    reply: z.array(UserAsShown),
    handle: async ({ query }, ctx) => {
      checkSearchFilters(ctx.directory, ctx.principal!, query);
      return pageResult(ctx.req, shownPage(ctx, await ctx.call(Rpcs.users.search, query)), query);
    },
  }),
  defineRoute({
    route: 'GET /users/me',
    summary: 'The caller',
    rpc: Rpcs.users.get,
    handle: async (_input, ctx) => ({ body: await ctx.call(Rpcs.users.get, { user_id: ctx.principal!.userId }) }),
  }),
  defineRoute({
    route: 'PUT /users/me/password',
    summary: 'Change your password; your other sessions end',
    body: ChangePasswordBody,
    rpc: Rpcs.auth.changePassword,
    handle: async ({ body }, ctx) => {
      const p = ctx.principal!;
      return { body: await ctx.call(Rpcs.auth.changePassword, { ...body, user_id: p.userId, session_id: p.sessionId }) };
    },
  }),
  defineRoute({
    route: 'POST /users/me/mfa/totp',
    summary: 'Start TOTP enrolment: a secret, its otpauth:// URI and QR code (active only once confirmed)',
    rpc: Rpcs.users.startTotp,
    handle: async (_input, ctx) => ({ body: await ctx.call(Rpcs.users.startTotp, { user_id: ctx.principal!.userId }), headers: noStore }),
  }),
  defineRoute({
    route: 'POST /users/me/mfa/totp/confirm',
    summary: 'Activate TOTP with a code from the app; answers 10 single-use recovery codes, shown once',
    body: ConfirmTotpBody,
    rpc: Rpcs.users.confirmTotp,
    handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.users.confirmTotp, { user_id: ctx.principal!.userId, code: body.code }), headers: noStore }),
  }),
  defineRoute({
    route: 'DELETE /users/me/mfa/totp',
    summary: 'Remove your second factor: send `{"code": …}`, or nothing within REAUTH_WINDOW of a login',
    body: DisableTotpBody,
    optionalBody: true,
    rpc: Rpcs.auth.disableTotp,
    handle: async ({ body }, ctx) => {
      const p = ctx.principal!;
      return { body: await ctx.call(Rpcs.auth.disableTotp, { ...body, user_id: p.userId, session_id: p.sessionId }) };
    },
  }),
  defineRoute({
    route: 'GET /users/:user_id',
    summary: 'One user (`me` for yourself)',
    params: UserId,
    rpc: Rpcs.users.get,
    reply: UserAsShown,
    handle: async ({ params }, ctx) => ({ body: shownTo(ctx.directory, ctx.principal!, await ctx.call(Rpcs.users.get, params)) }),
  }),
  defineRoute({
    route: 'PATCH /users/:user_id',
    summary: 'Change username, email, fio, birthday or tags (yourself, or anyone as an admin)',
    params: UserId,
    body: UpdateUserBody,
    rpc: Rpcs.users.update,
    handle: async ({ params, body }, ctx) => ({ body: await ctx.call(Rpcs.users.update, { user_id: params.user_id, changes: body }) }),
  }),
  defineRoute({
    route: 'DELETE /users/:user_id',
    summary: 'Delete a user (yourself, or anyone as an admin)',
    params: UserId,
    rpc: Rpcs.users.delete,
    handle: async ({ params }, ctx) => {
      await ctx.call(Rpcs.users.delete, params);
      return { status: 204 };
    },
  }),
  defineRoute({
    route: 'PUT /users/:user_id/role',
    summary: "Set a user's role (admins); the last admin stays one",
    params: UserId,
    body: SetRoleBody,
    rpc: Rpcs.users.setRole,
    handle: async ({ params, body }, ctx) => ({ body: await ctx.call(Rpcs.users.setRole, { user_id: params.user_id, role: body.role }) }),
  }),
  defineRoute({
    route: 'DELETE /users/:user_id/mfa/totp',
    summary: "Reset a user's second factor (admins); recorded in the user's history",
    params: UserId,
    rpc: Rpcs.users.resetMfa,
    handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.resetMfa, params) }),
  }),
  defineRoute({
    route: 'GET /users/:user_id/history',
    summary: "A user's events, newest first, with before/after values of every change",
    params: UserId,
    rpc: Rpcs.users.history,
    handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.history, params) }),
  }),
  defineRoute({
    route: 'POST /user_delete/:user_id',
    summary: 'Delete a user (yourself, or anyone as an admin); answers the deleted user',
    params: UserId,
    rpc: Rpcs.users.delete,
    handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.delete, params) }),
  }),
];

/**
 * Endpoint shapes of the REST projects this product replaces, served by the routes above with the
 * same validation, access rule and reply. One table; the README lists it.
 */
export const aliases: Array<{ alias: string; target: RouteKey; params?: Record<string, string> }> = [
  { alias: 'POST /auth/register', target: 'POST /register' },
  { alias: 'POST /auth/login', target: 'POST /login' },
  { alias: 'POST /refresh_jwt', target: 'POST /refresh' },
  { alias: 'GET /user', target: 'GET /users/me' },
  { alias: 'PUT /users', target: 'PATCH /users/:user_id', params: { user_id: 'me' } },
  { alias: 'DELETE /users', target: 'DELETE /users/:user_id', params: { user_id: 'me' } },
  { alias: 'PUT /users/:user_id', target: 'PATCH /users/:user_id' },
];

/** Where each alias mounts its target. */
export function aliasMounts(): Array<{ def: RouteDef; mount: Mount }> {
  return aliases.map(({ alias, target, params }) => {
    const def = routes.find((r) => r.route === target);
    if (!def) throw new Error(`alias ${alias} points at unknown route ${target}`);
    const [method, path] = alias.split(' ') as [string, string];
    return { def, mount: { method, path, ...(params ? { params } : {}) } };
  });
}
