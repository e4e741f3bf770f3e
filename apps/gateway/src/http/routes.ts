import {
  ConfirmTotpBody,
  DisableTotpBody,
  ForgotPasswordBody,
  LoginMfa,
  ResetPasswordBody,
  ChangePasswordBody,
  ConfirmEmail,
  EmailChangeToken,
  EmailConfirmationResult,
  ReauthenticationBody,
  ListUsers,
  LoginBody,
  LoginReply,
  Refresh,
  Rpcs,
  SetRoleBody,
  PublicUser,
  User,
  UserIdParams,
  buildProfile,
  oldShapes,
  type Profile,
  type UserPage,
} from '@um/contracts';
import { AppError } from '@um/platform';
import type { Request } from 'express';
import { z } from 'zod';
import { checkSearchFilters, shownTo } from '../access/directory.js';
import type { RouteKey } from '../access/policy.js';
import { deviceCookie, readDeviceCookie } from './device-cookie.js';
import { oldNamesFor, type OldNames } from './old-names.js';
import { replyHeaders } from './reply-headers.js';
import { defineRoute, type Mount, type RouteContext, type RouteDef, type RouteResult } from './route.js';

/**
 * X-Total-Count (with X-Total-Count-Exact: `false` when it is an estimate) and RFC 8288 Link: `next`
 * carries the cursor after this page, `prev` (offset paging only) the previous offset; the caller's
 * other query parameters are kept.
 */
export function pageResult(req: Request, page: Omit<UserPage, 'items'> & { items: unknown[] }, q: { offset: number; cursor?: string | undefined }): RouteResult {
  const link = (set: Record<string, string>, drop: string, rel: string) => {
    const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    params.delete(drop);
    for (const [k, v] of Object.entries(set)) params.set(k, v);
    return `<${req.baseUrl}${req.path}?${params.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page.next_cursor) links.push(link({ cursor: page.next_cursor }, 'offset', 'next'));
  if (q.cursor === undefined && q.offset > 0 && page.limit) links.push(link({ offset: String(Math.max(0, q.offset - page.limit)) }, 'cursor', 'prev'));
  return {
    body: page.items,
    headers: {
      'X-Total-Count': String(page.total),
      'X-Total-Count-Exact': String(page.total_exact),
      ...(links.length ? { Link: links.join(', ') } : {}),
    },
  };
}

/** The headers `pageResult` sets, for the API document. */
const pageHeaders = { 'X-Total-Count': replyHeaders.totalCount, 'X-Total-Count-Exact': replyHeaders.totalCountExact, Link: replyHeaders.link };

const noStore = { 'Cache-Control': 'no-store' };

/** A page of users as the caller may see them (see access/directory.ts). */
const shownPage = (ctx: RouteContext, page: UserPage) => ({ ...page, items: page.items.map((u) => shownTo(ctx.directory, ctx.principal!, u)) });
/** A user as the caller sees them; without a caller (a registration, a login) as the user sees themself. */
const shown = (ctx: RouteContext, user: User) => shownTo(ctx.directory, ctx.principal ?? { userId: user.id, role: user.role }, user);

/** A user in full, or in public form to a non-admin when the directory shows public fields only. */
const UserAsShown = z.union([User, PublicUser]).describe('The user; without `email` and `config.birthday` to other non-admins when USER_DIRECTORY_FIELDS=public');
/** `POST /refresh_jwt`: the refresh token in the body, or as spec 002's FastAPI client sends it, a query parameter. */
const RefreshJwtBody = z.object({ refresh_token: Refresh.shape.refresh_token.optional() });
const RefreshJwtQuery = RefreshJwtBody;
const LogoutQuery = z.object({ all: z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).optional() });
/** Whether a path's user is the caller (an admin acting on someone else is not asked to reauthenticate). */
const isSelf = (ctx: RouteContext, userId: number) => ctx.principal?.userId === userId;
const clientIp = (req: Request) => req.ip ?? req.socket.remoteAddress ?? undefined;

/**
 * A password login: tokens and the user; with `old001` (spec 001's `/auth/login`, or a body with
 * `email` as that spec sends it) the user also under that spec's field names.
 */
const loginRoute = (route: 'POST /login' | 'POST /auth/login', summary: string, old001: boolean, oldNames: OldNames) =>
  defineRoute({
    route,
    summary,
    body: LoginBody,
    form: true,
    replyHeaders: { 'Set-Cookie': replyHeaders.deviceCookie },
    rpc: Rpcs.auth.login,
    reply: LoginReply,
    handle: async ({ body: { by_email, ...body } }, ctx) => {
      const answer = await ctx.call(Rpcs.auth.login, { ...body, client_ip: clientIp(ctx.req), device_token: readDeviceCookie(ctx.req) });
      if ('mfa_ticket' in answer)
        throw new AppError('mfa_required', 'auth.mfa_required', 'The password is right; send a code of your second factor with this ticket to POST /login/mfa', undefined, {
          extensions: { mfa_ticket: answer.mfa_ticket, expires_in: answer.expires_in },
        });
      const { device_token, user, ...reply } = answer;
      const own = shown(ctx, user);
      return { body: { ...reply, user: old001 || by_email ? oldNames['001'](own) : own }, headers: { ...noStore, 'Set-Cookie': deviceCookie(device_token, ctx.req.secure) } };
    },
  });

/**
 * Every API route, with the bodies this deployment's profile schema declares. Access rules are in
 * access/policy.ts, keyed by the same `route` strings. Order matters where paths overlap: fixed
 * segments (`/users/search`, `/users/me`) before `/users/:user_id`.
 */
export function buildRoutes(profile: Profile = buildProfile()): RouteDef[] {
  const old = oldShapes(profile);
  const oldNames = oldNamesFor(profile);
  return [
    defineRoute({
      route: 'POST /register',
      summary: 'Register a user',
      body: profile.RegisterUser,
      form: true,
      rpc: Rpcs.users.register,
      reply: profile.User,
      handle: async ({ body }, ctx) => {
        const { rest, attributes } = profile.split(body);
        const user = await ctx.call(Rpcs.users.register, { ...(rest as typeof body), attributes, client_ip: clientIp(ctx.req) });
        return { status: 201, body: shown(ctx, user) };
      },
    }),
    defineRoute({
      route: 'POST /auth/register',
      summary: 'Register as spec 001 does: `{name, phone, email, password, image_url}`; `name` is fio, the username is derived from the email',
      body: old.Register001,
      form: true,
      rpc: Rpcs.users.register,
      handle: async ({ body }, ctx) => {
        const user = await ctx.call(Rpcs.users.register, { ...body, client_ip: clientIp(ctx.req) });
        return { status: 201, body: oldNames['001'](shown(ctx, user)) };
      },
    }),
    loginRoute('POST /login', 'Exchange username (or email) and password for tokens', false, oldNames),
    loginRoute('POST /auth/login', "Log in as spec 001 does: `{email, password}`; the user also under that spec's field names", true, oldNames),
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
      route: 'POST /refresh_jwt',
      summary: 'Same as POST /refresh; the refresh token may also come as the `refresh_token` query parameter (spec 002)',
      body: RefreshJwtBody,
      optionalBody: true,
      query: RefreshJwtQuery,
      rpc: Rpcs.auth.refresh,
      handle: async ({ body, query }, ctx) => {
        if (body.refresh_token !== undefined && query.refresh_token !== undefined && body.refresh_token !== query.refresh_token)
          throw new AppError('invalid_argument', 'http.refresh_token_twice', 'Send the refresh token once: in the body or as the refresh_token query parameter', [
            { field: 'refresh_token', message: 'is given twice with different values' },
          ]);
        const refresh_token = body.refresh_token ?? query.refresh_token;
        if (refresh_token === undefined)
          throw new AppError('invalid_argument', 'http.refresh_token_missing', 'Invalid input: refresh_token is required', [{ field: 'refresh_token', message: 'is required' }]);
        return { body: await ctx.call(Rpcs.auth.refresh, { refresh_token }), headers: noStore };
      },
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
      route: 'POST /email-change/confirm',
      summary: 'Make a requested address change with the token of the link sent to the new address; the address counts as confirmed',
      body: EmailChangeToken,
      form: true,
      rpc: Rpcs.users.confirmEmailChange,
      handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.users.confirmEmailChange, body), headers: noStore }),
    }),
    defineRoute({
      route: 'POST /email-change/cancel',
      summary:
        'Cancel an address change with the token of the link sent to the old address (taking the old address back if the change was made); every session of the account ends and unused reset links die',
      body: EmailChangeToken,
      form: true,
      rpc: Rpcs.auth.cancelEmailChange,
      handle: async ({ body }, ctx) => ({ body: await ctx.call(Rpcs.auth.cancelEmailChange, body), headers: noStore }),
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
      summary: 'Create a user (admins), choosing the role; without username one is derived from the email (spec 004 sends none)',
      body: profile.CreateUser,
      rpc: Rpcs.users.register,
      reply: profile.User,
      handle: async ({ body }, ctx) => {
        const { rest, attributes } = profile.split(body);
        // Spec 004's clients create users here too: their field names beside ours.
        return { status: 201, body: oldNames['004'](shown(ctx, await ctx.call(Rpcs.users.register, { ...(rest as typeof body), attributes }))) };
      },
    }),
    defineRoute({
      route: 'GET /users/search',
      summary: 'Search users: username, email, fio (substring), birthday (exact), tags (all of)',
      query: profile.SearchUsers,
      replyHeaders: pageHeaders,
      rpc: Rpcs.users.search,
      reply: z.array(UserAsShown),
      handle: async ({ query }, ctx) => {
        checkSearchFilters(ctx.directory, ctx.principal!, query);
        const { rest, attributes } = profile.split(query);
        return pageResult(ctx.req, shownPage(ctx, await ctx.call(Rpcs.users.search, { ...(rest as typeof query), attributes })), query);
      },
    }),
    defineRoute({
      route: 'GET /users/me',
      summary: 'The caller',
      rpc: Rpcs.users.get,
      handle: async (_input, ctx) => ({ body: shown(ctx, await ctx.call(Rpcs.users.get, { user_id: ctx.principal!.userId })) }),
    }),
    defineRoute({
      route: 'PUT /users',
      summary:
        'Change your own profile as spec 003 does (`{password, email}` and any profile field). A password or email change needs `current_password`, or a session opened by a login within REAUTH_WINDOW (else 401: log in again); the password is changed first. A new email takes effect once confirmed from the link sent to it',
      body: old.Update003,
      rpc: Rpcs.users.update,
      reply: z.object({ data: UserAsShown }).describe("Spec 003's envelope: the user, also with `registration_date`"),
      alsoRpcs: [Rpcs.auth.changePassword, Rpcs.users.get, Rpcs.auth.reauthenticate],
      handle: async ({ body }, ctx) => {
        const p = ctx.principal!;
        const { password, current_password, ...fields } = body;
        if (password !== undefined)
          await ctx.call(Rpcs.auth.changePassword, {
            new_password: password,
            user_id: p.userId,
            session_id: p.sessionId,
            ...(current_password !== undefined ? { current_password } : {}),
          });
        else if (fields.email !== undefined) await ctx.reauthenticate(current_password);
        const { rest, attributes } = profile.split(fields);
        const user =
          Object.keys(rest).length || Object.keys(attributes).length
            ? await ctx.call(Rpcs.users.update, { user_id: p.userId, changes: { ...rest, ...(Object.keys(attributes).length ? { attributes } : {}) } })
            : await ctx.call(Rpcs.users.get, { user_id: p.userId });
        return { body: { data: oldNames['003'](shown(ctx, user)) } };
      },
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
      summary: 'Start TOTP enrolment: a secret, its otpauth:// URI and QR code (active only once confirmed). Needs `current_password`, or a login within REAUTH_WINDOW',
      body: ReauthenticationBody,
      optionalBody: true,
      rpc: Rpcs.users.startTotp,
      alsoRpcs: [Rpcs.auth.reauthenticate],
      handle: async ({ body }, ctx) => {
        await ctx.reauthenticate(body.current_password);
        return { body: await ctx.call(Rpcs.users.startTotp, { user_id: ctx.principal!.userId }), headers: noStore };
      },
    }),
    defineRoute({
      route: 'POST /users/me/mfa/totp/confirm',
      summary: 'Activate TOTP with a code from the app; answers 10 single-use recovery codes, shown once. Needs `current_password`, or a login within REAUTH_WINDOW',
      body: ConfirmTotpBody.extend(ReauthenticationBody.shape),
      rpc: Rpcs.users.confirmTotp,
      alsoRpcs: [Rpcs.auth.reauthenticate],
      handle: async ({ body }, ctx) => {
        await ctx.reauthenticate(body.current_password);
        return { body: await ctx.call(Rpcs.users.confirmTotp, { user_id: ctx.principal!.userId, code: body.code }), headers: noStore };
      },
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
      params: UserIdParams,
      rpc: Rpcs.users.get,
      reply: UserAsShown,
      // Specs 003 and 004 read users here: their field names beside ours.
      handle: async ({ params }, ctx) => ({ body: oldNames['004'](oldNames['003'](shownTo(ctx.directory, ctx.principal!, await ctx.call(Rpcs.users.get, params)))) }),
    }),
    defineRoute({
      route: 'PATCH /users/:user_id',
      summary:
        'Change username, email, fio, birthday or tags (yourself, or anyone as an admin). Your own new email needs `current_password` (or a login within REAUTH_WINDOW) and takes effect once confirmed from the link sent to it; the old address gets a link that cancels the change. The reply is the same whether or not the address is taken',
      params: UserIdParams,
      body: profile.UpdateUserBody,
      rpc: Rpcs.users.update,
      alsoRpcs: [Rpcs.auth.reauthenticate],
      handle: async ({ params, body: { current_password, ...body } }, ctx) => {
        if (body.email !== undefined && isSelf(ctx, params.user_id)) await ctx.reauthenticate(current_password as string | undefined);
        const { rest, attributes } = profile.split(body);
        const changes = { ...rest, ...(Object.keys(attributes).length ? { attributes } : {}) };
        return { body: shown(ctx, await ctx.call(Rpcs.users.update, { user_id: params.user_id, changes })) };
      },
    }),
    defineRoute({
      route: 'DELETE /users/:user_id',
      summary: 'Delete a user (yourself, or anyone as an admin). Your own account needs `current_password`, or a login within REAUTH_WINDOW',
      params: UserIdParams,
      body: ReauthenticationBody,
      optionalBody: true,
      rpc: Rpcs.users.delete,
      alsoRpcs: [Rpcs.auth.reauthenticate],
      handle: async ({ params, body }, ctx) => {
        if (isSelf(ctx, params.user_id)) await ctx.reauthenticate(body.current_password);
        await ctx.call(Rpcs.users.delete, params);
        return { status: 204 };
      },
    }),
    defineRoute({
      route: 'PUT /users/:user_id/role',
      summary: "Set a user's role (admins); the last admin stays one",
      params: UserIdParams,
      body: SetRoleBody,
      rpc: Rpcs.users.setRole,
      handle: async ({ params, body }, ctx) => ({ body: await ctx.call(Rpcs.users.setRole, { user_id: params.user_id, role: body.role }) }),
    }),
    defineRoute({
      route: 'DELETE /users/:user_id/mfa/totp',
      summary: "Reset a user's second factor (admins); recorded in the user's history",
      params: UserIdParams,
      rpc: Rpcs.users.resetMfa,
      handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.resetMfa, params) }),
    }),
    defineRoute({
      route: 'GET /users/:user_id/history',
      summary: "A user's events, newest first, with before/after values of every change",
      params: UserIdParams,
      rpc: Rpcs.users.history,
      handle: async ({ params }, ctx) => ({ body: await ctx.call(Rpcs.users.history, params) }),
    }),
    defineRoute({
      route: 'POST /user_delete/:user_id',
      summary: 'Delete a user (yourself, or anyone as an admin); answers the deleted user. Your own account needs `current_password`, or a login within REAUTH_WINDOW',
      params: UserIdParams,
      body: ReauthenticationBody,
      optionalBody: true,
      rpc: Rpcs.users.delete,
      alsoRpcs: [Rpcs.auth.reauthenticate],
      handle: async ({ params, body }, ctx) => {
        if (isSelf(ctx, params.user_id)) await ctx.reauthenticate(body.current_password);
        return { body: shown(ctx, await ctx.call(Rpcs.users.delete, params)) };
      },
    }),
  ];
}

/**
 * Endpoint shapes of the REST projects this product replaces, served by the routes above with the
 * same validation, access rule and reply. One table; the README lists it.
 */
export const aliases: Array<{ alias: string; target: RouteKey; params?: Record<string, string>; oldNames?: keyof OldNames }> = [
  { alias: 'GET /user', target: 'GET /users/me' },
  { alias: 'DELETE /users', target: 'DELETE /users/:user_id', params: { user_id: 'me' } },
  // Spec 004's update: its field names beside ours in the reply.
  { alias: 'PUT /users/:user_id', target: 'PATCH /users/:user_id', oldNames: '004' },
];

/** Where each alias mounts its target. */
export function aliasMounts(routes: RouteDef[], profile: Profile = buildProfile()): Array<{ def: RouteDef; mount: Mount }> {
  const names = oldNamesFor(profile);
  return aliases.map(({ alias, target, params, oldNames }) => {
    const view = oldNames ? (names[oldNames] as Mount['view']) : undefined;
    const def = routes.find((r) => r.route === target);
    if (!def) throw new Error(`alias ${alias} points at unknown route ${target}`);
    const [method, path] = alias.split(' ') as [string, string];
    return { def, mount: { method, path, ...(params ? { params } : {}), ...(view ? { view } : {}) } };
  });
}
