import { aliases, buildRoutes } from '@um/gateway/dist/http/routes.js';
import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System, type Reply } from './harness.js';
import { DocumentedApi, type OpenApiDocument } from './openapi-validator.js';
import { SmtpSink } from './smtp.js';
import { safeStep, totp } from './totp.js';

/**
 * The API document tells the truth: every operation it lists is called on the real system, with
 * success and error cases, and every answer (status, headers, body) is validated against it. The
 * last test fails if an operation of the document was never called, or never answered an error it
 * documents.
 */

const ADMIN = { username: 'openapi_admin', email: 'openapi.admin@example.com', password: 'admin-password-openapi' };
/** A user id that exists nowhere (and is well-formed, whatever ids look like). */
const NOBODY = '01900000-0000-7000-8000-000000000000';

let smtp: SmtpSink;
let sys: System;
let api: DocumentedApi;

beforeAll(async () => {
  smtp = new SmtpSink();
  sys = await System.start({
    mail: 1,
    env: {
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SMTP_URL: await smtp.start(),
      RELAY_POLL_MS: '200',
      EMAIL_RESEND_INTERVAL: '1s',
      PASSWORD_RESET_ADDRESS_LIMIT: '100000',
      RPC_UNAVAILABLE_RETRY_MS: '300',
    },
  });
  const doc = await http<OpenApiDocument>(sys.url, 'GET', '/openapi.json');
  expect(doc.status).toBe(200);
  api = new DocumentedApi(doc.body);
}, 60_000);
afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
});

interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  form?: Record<string, string>;
  token?: string;
  headers?: Record<string, string>;
}

/** Call one documented operation (`METHOD /path/{param}`) and check the answer against the document. */
async function call(operation: string, expected: number, opts: CallOptions = {}): Promise<Reply<any>> {
  const [method, template] = operation.split(' ') as [string, string];
  let path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(opts.params?.[name] ?? ''));
  if (opts.query) path += `?${new URLSearchParams(opts.query).toString()}`;
  const reply = await http(sys.url, method, path, opts);
  expect(api.problems(operation, reply), `${operation}: ${JSON.stringify(reply.body)?.slice(0, 300)}`).toEqual([]);
  expect(reply.status, `${operation}: ${JSON.stringify(reply.body)?.slice(0, 300)}`).toBe(expected);
  return reply;
}

interface Account {
  username: string;
  email: string;
  password: string;
  id: string;
  token: string;
  refresh: string;
}
const accounts: Record<string, Account> = {};

async function signUp(name: string, via: 'json' | 'form' | 'alias' = 'json'): Promise<Account> {
  const input = newUser();
  // The old path is spec 001's shape: `name` (fio), no username (derived from the email), `{email, password}` to log in.
  const reg =
    via === 'form'
      ? await call('POST /register', 201, { form: { ...input, tags: 'books, chess' } })
      : via === 'alias'
        ? await call('POST /auth/register', 201, { body: { name: input.fio, email: input.email, password: input.password } })
        : await call('POST /register', 201, { body: input });
  const login = await call(
    via === 'alias' ? 'POST /auth/login' : 'POST /login',
    200,
    via === 'form'
      ? { form: { username: input.username, password: input.password } }
      : via === 'alias'
        ? { body: { email: input.email, password: input.password } }
        : { body: input },
  );
  input.username = reg.body.username;
  const account = { ...input, id: String(reg.body.id), token: login.body.access_token, refresh: login.body.refresh_token };
  accounts[name] = account;
  return account;
}
const fresh = async (a: Account) => {
  const login = await call('POST /login', 200, { body: { username: a.username, password: a.password } });
  return { ...a, token: login.body.access_token as string, refresh: login.body.refresh_token as string };
};
let admin: Account;

describe('every documented operation answers as documented', () => {
  it('(the checker refuses answers the document does not describe)', () => {
    const checker = new DocumentedApi(api.doc);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
      status,
      body,
      ms: 0,
      headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'r-1', ...headers }),
    });
    expect(checker.problems('GET /healthz', answer(200, { status: 'ok' }))).toEqual([]);
    expect(checker.problems('GET /healthz', answer(418, { status: 'ok' }))).toEqual([expect.stringContaining('does not document')]);
    expect(checker.problems('GET /healthz', answer(200, { status: 'fine' }))).toEqual([expect.stringContaining('body /status')]);
    expect(checker.problems('GET /healthz', answer(200, { status: 'ok' }, { 'content-type': 'text/html' }))).toEqual([expect.stringContaining('content type')]);
    const missingId = answer(200, { status: 'ok' });
    missingId.headers.delete('x-request-id');
    expect(checker.problems('GET /healthz', missingId)).toEqual([expect.stringContaining('header X-Request-Id is missing')]);
    expect(checker.problems('GET /users', answer(200, [], { 'x-total-count-exact': 'true' }))).toEqual([expect.stringContaining('header X-Total-Count is missing')]);
    expect(checker.problems('GET /users', answer(200, [], { 'x-total-count': 'many', 'x-total-count-exact': 'true' }))).toEqual([expect.stringContaining('header X-Total-Count')]);
    expect(checker.problems('GET /users', answer(200, [{ id: 1 }], { 'x-total-count': '1', 'x-total-count-exact': 'true' }))).not.toEqual([]);
    expect(checker.problems('POST /logout', answer(204, { unexpected: true }))).toEqual([expect.stringContaining('a body where none is documented')]);
    expect(checker.problems('GET /nowhere', answer(200, {}))).toEqual(['GET /nowhere is not in the document']);
  });

  it('service endpoints', async () => {
    await call('GET /healthz', 200);
    await call('GET /readyz', 200);
    await call('GET /openapi.json', 200);
    await call('GET /.well-known/jwks.json', 200);
  });

  it('registration (JSON, form, the old path) and its refusals', async () => {
    const a = await signUp('a');
    await signUp('b', 'form');
    await signUp('c', 'alias');
    await call('POST /register', 409, { body: { ...newUser(), username: a.username } });
    await call('POST /register', 422, { body: {} });
    const invalid = await call('POST /register', 422, { body: { ...newUser(), username: 'abc', birthday: '1990-02-30' } });
    expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['birthday', 'username']);
    await call('POST /register', 400, { body: '{"username":', headers: { 'content-type': 'application/json' } });
    await call('POST /auth/register', 422, { body: { ...newUser(), email: 'not-an-email' } });
  });

  it('login (JSON, form, the old path) and its refusals', async () => {
    const login = await call('POST /login', 200, { form: { username: ADMIN.username, password: ADMIN.password, grant_type: 'password' } });
    admin = { ...ADMIN, id: String(login.body.user.id), token: login.body.access_token, refresh: login.body.refresh_token };
    await call('POST /login', 401, { body: { username: ADMIN.username, password: 'wrong password' } });
    await call('POST /login', 422, { body: { username: ADMIN.username } });
    await call('POST /auth/login', 401, { body: { email: accounts.c!.email, password: 'wrong password' } });
    await call('POST /auth/login', 422, { body: {} });
  });

  it('sessions: refresh, the old refresh path, logout', async () => {
    const a = accounts.a!;
    const r = await call('POST /refresh', 200, { body: { refresh_token: a.refresh } });
    accounts.a = { ...a, token: r.body.access_token, refresh: r.body.refresh_token };
    await call('POST /refresh', 401, { body: { refresh_token: 'not-a-refresh-token' } });
    const b = accounts.b!;
    const rb = await call('POST /refresh_jwt', 200, { body: { refresh_token: b.refresh } });
    accounts.b = { ...b, token: rb.body.access_token, refresh: rb.body.refresh_token };
    await call('POST /refresh_jwt', 422, { body: {} });
    const spare = await fresh(accounts.c!);
    await call('POST /logout', 204, { token: spare.token });
    await call('POST /logout', 401);
    await call('POST /logout', 422, { token: accounts.c!.token, query: { all: 'maybe' } });
  });

  it('email confirmation and resending the link', async () => {
    const a = accounts.a!;
    await eventually(async () => smtp.to(a.email).some((m) => m.link), 20_000);
    const token = new URL(smtp.to(a.email).find((m) => m.link)!.link!).searchParams.get('token')!;
    await call('GET /confirm-email', 200, { query: { token } });
    await call('GET /confirm-email', 400, { query: { token } });
    await call('GET /confirm-email', 422);
    await call('POST /confirm-email/resend', 409, { token: a.token });
    // the interval since the registration's own link is 1 s here
    await eventually(async () => (await http(sys.url, 'POST', '/confirm-email/resend', { token: accounts.b!.token })).status !== 429, 10_000);
    const again = await call('POST /confirm-email/resend', 429, { token: accounts.b!.token });
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    await call('POST /confirm-email/resend', 202, { token: accounts.b!.token });
    await call('POST /confirm-email/resend', 401);
  });

  it('password recovery', async () => {
    // a's address was confirmed above: reset links go only to a confirmed one
    const b = accounts.a!;
    await call('POST /password/forgot', 202, { body: { email: b.email } });
    await call('POST /password/forgot', 422, { body: {} });
    const resetMail = () => smtp.to(b.email).find((m) => m.subject === 'Reset your password');
    await eventually(async () => resetMail() !== undefined, 20_000);
    const token = decodeURIComponent(/\/password\/reset\?token=([\w%-]+)/.exec(resetMail()!.text)![1]!);
    const password = `${b.password}-reset`;
    await call('POST /password/reset', 200, { body: { token, password } });
    await call('POST /password/reset', 400, { body: { token, password: `${password}-again` } });
    accounts.a = await fresh({ ...b, password });
  });

  it('an address change: asked for, confirmed from the new address, taken back from the old one', async () => {
    const e = await signUp('e');
    const newEmail = `moved.${e.email}`;
    await call('PATCH /users/{user_id}', 422, { token: e.token, params: { user_id: e.id }, body: { email: newEmail, current_password: 'not the password' } });
    await call('PATCH /users/{user_id}', 200, { token: e.token, params: { user_id: e.id }, body: { email: newEmail, current_password: e.password } });
    await eventually(async () => smtp.to(newEmail).length === 1 && smtp.to(e.email).some((m) => m.subject === 'Your email address is about to change'), 20_000);
    const tokenIn = (text: string, path: string) => decodeURIComponent(new RegExp(`${path}\\?token=([\\w%-]+)`).exec(text)![1]!);
    const confirm = tokenIn(smtp.to(newEmail)[0]!.text, '/email-change/confirm');
    const cancel = tokenIn(smtp.to(e.email).find((m) => m.subject === 'Your email address is about to change')!.text, '/email-change/cancel');
    await call('POST /email-change/confirm', 422, { body: {} });
    await call('POST /email-change/confirm', 200, { body: { token: confirm } });
    await call('POST /email-change/confirm', 400, { body: { token: confirm } });
    await call('POST /email-change/cancel', 200, { form: { token: cancel } });
    await call('POST /email-change/cancel', 400, { body: { token: cancel } });
  });

  it('lists and search, with their paging headers', async () => {
    const { token } = accounts.a!;
    const page = await call('GET /users', 200, { token, query: { limit: '1' } });
    expect(page.body).toHaveLength(1);
    expect(Number(page.headers.get('x-total-count'))).toBeGreaterThan(1);
    expect(page.headers.get('link')).toContain('rel="next"');
    await call('GET /users', 422, { token, query: { limit: '0' } });
    await call('GET /users', 401);
    const found = await call('GET /users/search', 200, { token, query: { username: accounts.b!.username } });
    expect(found.body).toHaveLength(1);
    await call('GET /users/search', 422, { token, query: { birthday: 'yesterday' } });
  });

  it('reading users', async () => {
    const a = accounts.a!;
    await call('GET /users/me', 200, { token: a.token });
    await call('GET /users/me', 401, { token: 'not.a.token' });
    await call('GET /user', 200, { token: a.token });
    await call('GET /user', 401);
    await call('GET /users/{user_id}', 200, { token: a.token, params: { user_id: accounts.b!.id } });
    await call('GET /users/{user_id}', 404, { token: a.token, params: { user_id: NOBODY } });
    await call('GET /users/{user_id}/history', 200, { token: a.token, params: { user_id: a.id } });
    await call('GET /users/{user_id}/history', 403, { token: a.token, params: { user_id: accounts.b!.id } });
  });

  it('changing users: PATCH, the old PUT shapes, roles, admin creation', async () => {
    const a = accounts.a!;
    const b = accounts.b!;
    await call('PATCH /users/{user_id}', 200, { token: a.token, params: { user_id: a.id }, body: { fio: 'Alice P. Liddell', tags: 'books,tea' } });
    const unknown = await call('PATCH /users/{user_id}', 422, { token: a.token, params: { user_id: a.id }, body: { fio: 'X', shoe_size: 42 } });
    expect(unknown.body.errors).toEqual([{ field: 'shoe_size', message: 'is not a known field' }]);
    await call('PATCH /users/{user_id}', 403, { token: a.token, params: { user_id: b.id }, body: { fio: 'Not Mine' } });
    await call('PATCH /users/{user_id}', 409, { token: a.token, params: { user_id: a.id }, body: { username: b.username } });
    await call('PUT /users/{user_id}', 200, { token: a.token, params: { user_id: a.id }, body: { birthday: '1990-01-02' } });
    await call('PUT /users/{user_id}', 403, { token: a.token, params: { user_id: b.id }, body: { birthday: '1990-01-02' } });
    await call('PUT /users', 200, { token: b.token, body: { fio: 'Bob B.' } });
    await call('PUT /users', 422, { token: b.token, body: {} });
    await call('PUT /users', 415, { token: b.token, form: { fio: 'Bob' } });
    const created = await call('POST /users', 201, { token: admin.token, body: { ...newUser(), role: 'admin' } });
    expect(created.body.role).toBe('admin');
    await call('POST /users', 403, { token: a.token, body: newUser() });
    await call('PUT /users/{user_id}/role', 200, { token: admin.token, params: { user_id: String(created.body.id) }, body: { role: 'user' } });
    await call('PUT /users/{user_id}/role', 403, { token: a.token, params: { user_id: a.id }, body: { role: 'admin' } });
    await call('PUT /users/{user_id}/role', 409, { token: admin.token, params: { user_id: admin.id }, body: { role: 'user' } });
    await call('PUT /users/{user_id}/role', 404, { token: admin.token, params: { user_id: NOBODY }, body: { role: 'user' } });
  });

  it('changing the password', async () => {
    const a = accounts.a!;
    await call('PUT /users/me/password', 422, { token: a.token, body: { current_password: 'not the password', new_password: `${a.password}-new` } });
    await call('PUT /users/me/password', 200, { token: a.token, body: { current_password: a.password, new_password: `${a.password}-new` } });
    accounts.a = { ...a, password: `${a.password}-new` };
  });

  it('the second factor: enrolment, login with it, removal by the user and by an admin', async () => {
    const d = await signUp('d');
    const start = await call('POST /users/me/mfa/totp', 200, { token: d.token });
    await call('POST /users/me/mfa/totp/confirm', 422, { token: d.token, body: { code: 'abcdef' } });
    const confirmed = await call('POST /users/me/mfa/totp/confirm', 200, { token: d.token, body: { code: totp(start.body.secret, await safeStep()) } });
    await call('POST /users/me/mfa/totp', 409, { token: d.token });
    const challenge = await call('POST /login', 401, { body: { username: d.username, password: d.password } });
    expect(challenge.body.code).toBe('mfa_required');
    await call('POST /login/mfa', 401, { body: { ticket: 'not-a-ticket', code: '123456' } });
    const second = await call('POST /login/mfa', 200, { body: { ticket: challenge.body.mfa_ticket, code: confirmed.body.recovery_codes[0] } });
    await call('DELETE /users/me/mfa/totp', 401, { body: {} });
    await call('DELETE /users/me/mfa/totp', 200, { token: second.body.access_token, body: {} });
    await call('POST /users/me/mfa/totp/confirm', 404, { token: second.body.access_token, body: { code: '123456' } });

    const e = await signUp('e');
    const startE = await call('POST /users/me/mfa/totp', 200, { token: e.token });
    await call('POST /users/me/mfa/totp/confirm', 200, { token: e.token, body: { code: totp(startE.body.secret, await safeStep()) } });
    await call('DELETE /users/{user_id}/mfa/totp', 403, { token: e.token, params: { user_id: e.id } });
    await call('DELETE /users/{user_id}/mfa/totp', 200, { token: admin.token, params: { user_id: e.id } });
  });

  it('deleting users: the three ways', async () => {
    const f = await signUp('f');
    await call('POST /user_delete/{user_id}', 403, { token: f.token, params: { user_id: accounts.a!.id } });
    await call('POST /user_delete/{user_id}', 200, { token: f.token, params: { user_id: f.id } });
    const g = await signUp('g');
    await call('DELETE /users/{user_id}', 403, { token: g.token, params: { user_id: accounts.a!.id } });
    await call('DELETE /users/{user_id}', 204, { token: g.token, params: { user_id: g.id } });
    await call('DELETE /users/{user_id}', 404, { token: admin.token, params: { user_id: NOBODY } });
    const h = await signUp('h');
    await call('DELETE /users', 204, { token: h.token });
    await call('DELETE /users', 401);
  });

  it('with the services down: 503 from readiness and from every forwarded call', async () => {
    await Promise.all(sys.procs.filter((p) => p.app === 'users-service' || p.app === 'auth-service').map((p) => p.stop()));
    await call('GET /readyz', 503);
    await call('GET /.well-known/jwks.json', 503);
    await call('POST /password/forgot', 503, { body: { email: accounts.a!.email } });
  });

  it('no operation of the document went uncalled, and each answered a success and (where it documents one) an error', () => {
    const missing: string[] = [];
    for (const operation of api.operations()) {
      const seen = [...(api.seen.get(operation) ?? [])];
      if (!seen.some((s) => s < 300)) missing.push(`${operation}: no success`);
      const errorsDocumented = api.documented(operation).some((s) => s >= 400);
      if (errorsDocumented && !seen.some((s) => s >= 400)) missing.push(`${operation}: no error`);
    }
    expect(missing).toEqual([]);
    // and the document has every route and alias of the gateway, plus /healthz, /readyz and /openapi.json
    expect(api.operations()).toHaveLength(buildRoutes().length + aliases.length + 3);
  });
});
