/** One request per gateway route and alias, and a canned service reply per RPC they call. */
import { historyEntry, loginRpcReply, newUserId, userReply, type Answer, type SendInit } from './support.js';

export const validRegistration = {
  username: 'alice_1',
  email: 'alice@example.com',
  password: 'correct horse battery',
  fio: 'Alice Example',
  birthday: '1990-01-02',
  tags: ['a', 'b'],
};

/** Canned service replies, by RPC name; each passes the RPC's reply schema (the fake RPC checks). */
export function replyByRpc(rpc: string, input: any): unknown {
  switch (rpc) {
    case 'users.list':
    case 'users.search':
      return { items: [userReply()], total: 1 };
    case 'users.get':
    case 'users.update':
    case 'users.delete':
      return userReply(input.user_id);
    case 'users.set_role':
      return userReply(input.user_id, { role: input.role });
    case 'users.history':
      return [historyEntry()];
    case 'users.register':
      return userReply(newUserId(), { role: input.role ?? 'user' });
    case 'users.request_email_confirmation':
      return { status: 'accepted' };
    case 'auth.login':
      return loginRpcReply();
    case 'auth.refresh':
      return { access_token: 'new.access.token', token_type: 'bearer', expires_in: 900, refresh_token: 'next-refresh-token' };
    case 'auth.logout':
      return { sessions_ended: 1 };
    case 'auth.change_password':
      return { status: 'changed', sessions_ended: 2 };
    case 'auth.login_mfa':
      return loginRpcReply();
    case 'users.confirm_email_change':
      return { status: 'confirmed' };
    case 'auth.cancel_email_change':
      return { status: 'cancelled', sessions_ended: 2 };
    case 'auth.reset_password':
      return { status: 'reset', sessions_ended: 1 };
    case 'users.request_password_reset':
      return { status: 'accepted' };
    case 'users.start_totp':
      return { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP', qr_code: 'data:image/svg+xml;base64,PHN2Zy8+' };
    case 'users.confirm_totp':
      return { recovery_codes: ['abcde-fghjk'] };
    case 'auth.disable_totp':
    case 'users.reset_mfa':
      return { status: 'disabled' };
    default:
      throw new Error(`unexpected rpc ${rpc}`);
  }
}

export interface RouteRequest {
  method: string;
  /** The path to request; `self` is the caller's user id. */
  path: (self: string) => string;
  /** A valid JSON body, for routes that take one. */
  body?: unknown;
  /** The role the caller needs; a user unless said. */
  role?: 'admin';
  ok: number;
  rpc: string;
}

const changePassword = { current_password: 'old password 1', new_password: 'new password 2' };

/** One request per protected route. */
export const protectedRequests: Record<string, RouteRequest> = {
  'POST /logout': { method: 'POST', path: () => '/logout', ok: 204, rpc: 'auth.logout' },
  'POST /confirm-email/resend': { method: 'POST', path: () => '/confirm-email/resend', ok: 202, rpc: 'users.request_email_confirmation' },
  'GET /users': { method: 'GET', path: () => '/users', ok: 200, rpc: 'users.list' },
  'POST /users': { method: 'POST', path: () => '/users', body: { ...validRegistration, role: 'admin' }, role: 'admin', ok: 201, rpc: 'users.register' },
  'GET /users/search': { method: 'GET', path: () => '/users/search?username=alice', ok: 200, rpc: 'users.search' },
  'GET /users/me': { method: 'GET', path: () => '/users/me', ok: 200, rpc: 'users.get' },
  'PUT /users': { method: 'PUT', path: () => '/users', body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
  'PUT /users/me/password': { method: 'PUT', path: () => '/users/me/password', body: changePassword, ok: 200, rpc: 'auth.change_password' },
  'POST /users/me/mfa/totp': { method: 'POST', path: () => '/users/me/mfa/totp', ok: 200, rpc: 'users.start_totp' },
  'POST /users/me/mfa/totp/confirm': { method: 'POST', path: () => '/users/me/mfa/totp/confirm', body: { code: '123456' }, ok: 200, rpc: 'users.confirm_totp' },
  'DELETE /users/me/mfa/totp': { method: 'DELETE', path: () => '/users/me/mfa/totp', body: { code: '123456' }, ok: 200, rpc: 'auth.disable_totp' },
  'DELETE /users/:user_id/mfa/totp': { method: 'DELETE', path: (self) => `/users/${self}/mfa/totp`, role: 'admin', ok: 200, rpc: 'users.reset_mfa' },
  'GET /users/:user_id': { method: 'GET', path: (self) => `/users/${self}`, ok: 200, rpc: 'users.get' },
  'PATCH /users/:user_id': { method: 'PATCH', path: (self) => `/users/${self}`, body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
  'DELETE /users/:user_id': { method: 'DELETE', path: (self) => `/users/${self}`, ok: 204, rpc: 'users.delete' },
  'PUT /users/:user_id/role': { method: 'PUT', path: (self) => `/users/${self}/role`, body: { role: 'user' }, role: 'admin', ok: 200, rpc: 'users.set_role' },
  'GET /users/:user_id/history': { method: 'GET', path: (self) => `/users/${self}/history`, ok: 200, rpc: 'users.history' },
  'POST /user_delete/:user_id': { method: 'POST', path: (self) => `/user_delete/${self}`, ok: 200, rpc: 'users.delete' },
};

/** One request per alias; `public` for aliases of public routes. */
export const aliasRequests: Record<string, RouteRequest & { public?: true }> = {
  'GET /user': { method: 'GET', path: () => '/user', ok: 200, rpc: 'users.get' },
  'DELETE /users': { method: 'DELETE', path: () => '/users', ok: 204, rpc: 'users.delete' },
  'PUT /users/:user_id': { method: 'PUT', path: (self) => `/users/${self}`, body: { fio: 'Alice B. Example' }, ok: 200, rpc: 'users.update' },
};

const protectedAliases = Object.fromEntries(Object.entries(aliasRequests).filter(([, r]) => !r.public));
/** Every protected way in: the routes and the aliases of protected routes. */
export const allProtected = { ...protectedRequests, ...protectedAliases };

/** `requestOf(r, self, init)`: the request `r` describes, made with `send` as the caller `self`. */
export function routeRequester(send: (path: string, init?: SendInit) => Promise<Answer>) {
  const requestOf = (r: RouteRequest, self: string, init: { token?: string; headers?: Record<string, string> } = {}) =>
    send(r.path(self), { method: r.method, ...(r.body === undefined ? {} : { json: r.body }), ...init });
  return { requestOf };
}
