import { AppError } from '@um/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { capturedLogger } from './captured-log.js';
import { historyEntry, newUserId, signToken, startGateway, userReply, type Harness } from './support.js';

const LOGIN_USER = userReply();

/** A user object as the masked access log shows it. */
const masked = (u: ReturnType<typeof userReply>) => ({
  ...u,
  username: `${u.username[0]}***`,
  email: `${String(u.email)[0]}***@${String(u.email).split('@')[1]}`,
  config: { ...u.config, fio: `${u.config.fio[0]}***`, birthday: '****-**-**', tags: u.config.tags.map((t) => `${t[0]}***`) },
});
const ISSUED_DEVICE = 'd1.DeViCeDeViCeDeViCeDeVi.1.devicemac';
const issued = () => ({ access_token: ISSUED_TOKEN, token_type: 'bearer', expires_in: 900, refresh_token: ISSUED_REFRESH, user: LOGIN_USER, device_token: ISSUED_DEVICE });

/** Every line the real production logger (createLogger) would have written, captured instead of printed. */
const { log, output } = capturedLogger();

let h: Harness;
beforeAll(async () => {
  h = await startGateway(log);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.rpc.reset();
});

interface AccessLine {
  level: number;
  service: string;
  msg: string;
  request_id: string;
  user_id: string | null;
  duration_ms: number;
  req: { method: string; path: string };
  res: { status: number };
  request_body?: unknown;
  response_body?: unknown;
  error_id?: string;
  cause?: string;
  [k: string]: unknown;
}

const lines = () => output.join('').split('\n').filter(Boolean);
const parsed = () => lines().map((l) => JSON.parse(l) as AccessLine);

/** The access-log line of the request answered with `requestId`; the line is written on 'finish', so wait for it. */
async function lineFor(requestId: string): Promise<AccessLine> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const found = parsed().find((l) => l.request_id === requestId && l.req);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no access log line for ${requestId}; got:\n${lines().join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${h.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, text, requestId: res.headers.get('x-request-id')!, line: await lineFor(res.headers.get('x-request-id')!) };
}

const REGISTER_PASSWORD = 'Reg1ster-Pa55word-zq9';
const FORM_PASSWORD = 'F0rm-Login-Pa55-kx7';
const JSON_PASSWORD = 'Js0n-Login-Pa55-mw4';
const QUERY_PASSWORD = 'Query-Pa55-vv2';
const ISSUED_TOKEN = 'eyJhbGciOiJFZERTQSJ9.issued-by-fake-auth.c2lnbmF0dXJl';
const ISSUED_REFRESH = 'refresh-issued-by-fake-auth-q8w7e6';
const PRESENTED_REFRESH = 'refresh-presented-by-client-z1x2c3';
const CURRENT_PASSWORD = 'Curr3nt-Pa55word-hh5';
const NEW_PASSWORD = 'N3w-Pa55word-jj6';
const GARBAGE_TOKEN = 'garbage-bearer-token-9f3k';

describe('access log', () => {
  let bearer: string;
  const userId = newUserId();
  const seen: Record<string, AccessLine> = {};

  beforeAll(async () => {
    bearer = await signToken(h.key, { sub: String(userId) });
  });

  it('logs a registration as one JSON line with the body, password redacted, personal fields masked', async () => {
    const reply = userReply();
    h.rpc.reply = () => reply;
    const r = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-register-1' },
      body: JSON.stringify({ username: 'alice_1', email: 'alice@example.com', password: REGISTER_PASSWORD, fio: 'Alice', birthday: '1990-01-02' }),
    });
    expect(r.status).toBe(201);
    const line = (seen.register = r.line);
    expect(line).toMatchObject({
      level: 30,
      service: 'gateway',
      request_id: 'log-register-1',
      user_id: null,
      req: { method: 'POST', path: '/register' },
      res: { status: 201 },
      request_body: { username: 'a***', email: 'a***@example.com', password: '[REDACTED]', fio: 'A***', birthday: '****-**-**' },
      response_body: masked(reply),
    });
    expect(typeof line.duration_ms).toBe('number');
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    expect(line.msg).toBe('POST /register 201');
  });

  it('logs a form login with the password and the issued tokens redacted', async () => {
    h.rpc.reply = issued;
    const r = await call('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice_1', password: FORM_PASSWORD, grant_type: 'password' }).toString(),
    });
    expect(r.status).toBe(200);
    // the client gets them; the log must not
    expect(r.text).toContain(ISSUED_TOKEN);
    expect(r.text).toContain(ISSUED_REFRESH);
    expect(JSON.stringify(r.line)).not.toContain(ISSUED_DEVICE);
    expect(r.line).toMatchObject({
      req: { method: 'POST', path: '/login' },
      res: { status: 200 },
      user_id: null,
      request_body: { username: 'a***', password: '[REDACTED]', grant_type: 'password' },
      response_body: { access_token: '[REDACTED]', token_type: 'bearer', expires_in: 900, refresh_token: '[REDACTED]', user: masked(LOGIN_USER) },
    });
  });

  it('logs a failed JSON login (warn) without the password', async () => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'auth.invalid_credentials', 'Wrong username or password');
    };
    const r = await call('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice_1', password: JSON_PASSWORD }),
    });
    expect(r.status).toBe(401);
    expect(r.line).toMatchObject({ level: 40, res: { status: 401 }, error_id: 'auth.invalid_credentials', request_body: { password: '[REDACTED]' } });
  });

  it('logs a second-factor login without the one-time code or the ticket', async () => {
    h.rpc.reply = () => {
      throw new AppError('unauthenticated', 'users.mfa_code_invalid', 'The code is wrong');
    };
    const r = await call('/login/mfa', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticket: 'mfa-ticket-abcdefghijklmnop', code: '493817' }),
    });
    expect(r.status).toBe(401);
    expect(JSON.stringify(r.line)).not.toContain('493817');
    expect(JSON.stringify(r.line)).not.toContain('mfa-ticket-abcdefghijklmnop');
    expect(r.line).toMatchObject({ request_body: { ticket: '[REDACTED]', code: '[REDACTED]' }, response_body: { code: 'unauthenticated' } });
  });

  it('logs the caller of an authenticated request, never the bearer token', async () => {
    h.rpc.reply = () => ({ items: [userReply(userId)], total: 1 });
    const r = await call('/users?limit=5', { headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status).toBe(200);
    expect(r.line).toMatchObject({ user_id: userId, req: { method: 'GET', path: '/users?limit=5' }, res: { status: 200 } });
    expect(r.line.response_body).toEqual([masked(userReply(userId))]);
    expect(r.line.request_body).toBeUndefined();
  });

  it('logs the first 10 users of a long page, masked, and counts the rest', async () => {
    const users = Array.from({ length: 25 }, () => userReply(userId));
    h.rpc.reply = () => ({ items: users, total: 25, total_exact: true, limit: 1000, next_cursor: null });
    const r = await call('/users', { headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status).toBe(200);
    const body = r.line.response_body as { truncated: boolean; bytes: number; items: number; preview: string };
    expect([body.truncated, body.items, body.bytes]).toEqual([true, 25, JSON.stringify(users).length]);
    expect(JSON.parse(body.preview)).toEqual(users.slice(0, 10).map(masked));
    expect(body.preview).not.toContain(users[0]!.email);
  });

  it('logs a refused token without the token', async () => {
    const r = await call('/users', { headers: { authorization: `Bearer ${GARBAGE_TOKEN}` } });
    expect(r.status).toBe(401);
    expect(r.line).toMatchObject({ level: 40, user_id: null, res: { status: 401 }, error_id: 'auth.token_invalid' });
  });

  it.each([
    ['/confirm-email?token=secretvalue', '/confirm-email?token=%5BREDACTED%5D'],
    ['/healthz?token=secretvalue&limit=1', '/healthz?token=%5BREDACTED%5D&limit=1'],
    ['/nowhere?access_token=secretvalue', '/n***?access_token=%5BREDACTED%5D'],
    ['/healthz?Password=secretvalue', '/healthz?Password=%5BREDACTED%5D'],
  ])('redacts secret query parameters: %s', async (path, logged) => {
    h.rpc.reply = () => userReply();
    const r = await call(path);
    expect(r.line.req.path).toBe(logged);
    expect(r.line.msg).toContain(logged);
    expect(JSON.stringify(r.line)).not.toContain('secretvalue');
  });

  it('redacts a password sent in the query of a login', async () => {
    h.rpc.reply = issued;
    const r = await call(`/login?password=${QUERY_PASSWORD}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice_1', password: JSON_PASSWORD }),
    });
    expect(r.status).toBe(200);
    expect(r.line.req.path).toBe('/login?password=%5BREDACTED%5D');
  });

  it('logs a refresh with the presented and the issued refresh tokens redacted', async () => {
    h.rpc.reply = () => ({ access_token: ISSUED_TOKEN, token_type: 'bearer', expires_in: 900, refresh_token: ISSUED_REFRESH });
    const r = await call('/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: PRESENTED_REFRESH }),
    });
    expect(r.status).toBe(200);
    expect(r.text).toContain(ISSUED_REFRESH);
    expect(r.line).toMatchObject({
      req: { method: 'POST', path: '/refresh' },
      user_id: null,
      request_body: { refresh_token: '[REDACTED]' },
      response_body: { access_token: '[REDACTED]', refresh_token: '[REDACTED]', token_type: 'bearer', expires_in: 900 },
    });
  });

  it('logs a refresh token sent in a query string redacted', async () => {
    h.rpc.reply = () => ({ access_token: ISSUED_TOKEN, token_type: 'bearer', expires_in: 900, refresh_token: ISSUED_REFRESH });
    const r = await call(`/refresh_jwt?refresh_token=${PRESENTED_REFRESH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(200);
    expect(h.rpc.calls.at(-1)?.input).toEqual({ refresh_token: PRESENTED_REFRESH });
    expect(r.line.req.path).toBe('/refresh_jwt?refresh_token=%5BREDACTED%5D');
  });

  it('logs a password change with both passwords redacted, and the caller', async () => {
    h.rpc.reply = () => ({ status: 'changed', sessions_ended: 1 });
    const r = await call('/users/me/password', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ current_password: CURRENT_PASSWORD, new_password: NEW_PASSWORD }),
    });
    expect(r.status).toBe(200);
    expect(r.line).toMatchObject({
      user_id: userId,
      req: { method: 'PUT', path: '/users/me/password' },
      request_body: { current_password: '[REDACTED]', new_password: '[REDACTED]' },
      response_body: { status: 'changed', sessions_ended: 1 },
    });
  });

  it('logs a refused password change (422) without the passwords', async () => {
    const r = await call('/users/me/password', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ current_password: CURRENT_PASSWORD, new_password: 'short' }),
    });
    expect(r.status).toBe(422);
    expect(r.line).toMatchObject({ level: 40, request_body: { current_password: '[REDACTED]', new_password: '[REDACTED]' } });
  });

  it('logs a logout (204) with the caller and no response body', async () => {
    h.rpc.reply = () => ({ sessions_ended: 1 });
    const r = await call('/logout', { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(r.line).toMatchObject({ level: 30, user_id: userId, req: { method: 'POST', path: '/logout' }, res: { status: 204 } });
    expect(r.line.response_body).toBeUndefined();
  });

  it('logs a 500 at error level with its cause, which the client never sees', async () => {
    h.rpc.reply = () => {
      throw new Error('secret internal detail');
    };
    const r = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice_1', email: 'alice@example.com', password: REGISTER_PASSWORD, fio: 'Alice', birthday: '1990-01-02' }),
    });
    expect(r.status).toBe(500);
    expect(r.text).not.toContain('secret internal detail');
    expect(r.line).toMatchObject({ level: 50, res: { status: 500 }, error_id: 'gateway.unexpected' });
    expect(r.line.cause).toContain('secret internal detail');
    expect(r.line.response_body).toMatchObject({ status: 500, code: 'internal' });
  });

  it('cuts a long string field in a logged body', async () => {
    const r = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice_1', email: 'alice@example.com', password: REGISTER_PASSWORD, fio: 'A', birthday: 'not a date', notes: ['y'.repeat(50_000)] }),
    });
    expect(r.status).toBe(422);
    expect(r.line.request_body).toMatchObject({ username: 'a***', password: '[REDACTED]', notes: [`${'y'.repeat(2000)}…[50000 chars]`] });
    expect(JSON.stringify(r.line).length).toBeLessThan(12_000);
  });

  it('replaces a body too big to log by a preview of its redacted form', async () => {
    const notes = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(1500, 't'));
    const r = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: REGISTER_PASSWORD, username: 'alice_1', email: 'alice@example.com', fio: 'A', birthday: 'not a date', notes }),
    });
    expect(r.status).toBe(422);
    const body = r.line.request_body as { truncated: boolean; bytes: number; preview: string };
    expect(body.truncated).toBe(true);
    expect(body.bytes).toBeGreaterThan(60_000);
    expect(body.preview).toHaveLength(4096);
    expect(body.preview.startsWith('{"password":"[REDACTED]","username":"a***"')).toBe(true);
    expect(JSON.stringify(r.line).length).toBeLessThan(12_000);
  });

  it('masks personal values in the query of a search, in the path and in the message', async () => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    const r = await call('/users/search?email=alice%40example.com&fio=Alice%20Example&username=alice_1&birthday=1990-01-02&tags=a&limit=5', {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(r.status).toBe(200);
    const logged = '/users/search?email=a***%40example.com&fio=A***&username=a***&birthday=****-**-**&tags=a***&limit=5';
    expect(r.line.req.path).toBe(logged);
    expect(r.line.msg).toBe(`GET ${logged} 200`);
  });

  it('masks an address typed into the path', async () => {
    const r = await call('/users/alice@example.com', { headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status).toBe(404);
    expect(r.line.req.path).toBe('/users/a***@example.com');
  });

  it('masks both sides of every change in a history', async () => {
    h.rpc.reply = () => [historyEntry({ changes: { email: { from: 'alice@example.com', to: 'alice.b@example.org' }, tags: { from: ['a'], to: ['b'] } } })];
    const r = await call(`/users/${userId}/history`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(r.status).toBe(200);
    expect((r.line.response_body as Array<{ changes: unknown }>)[0]!.changes).toEqual({
      email: { from: 'a***@example.com', to: 'a***@example.org' },
      tags: { from: ['a***'], to: ['b***'] },
    });
  });

  it('no personal value appears anywhere in the output, only masked forms', () => {
    const all = output.join('');
    for (const personal of ['alice@example.com', 'alice.b@example.org', 'alice_1', 'Alice Example', '1990-01-02'])
      expect(all, `log output contains ${personal}`).not.toContain(personal);
    expect(all).toContain('a***@example.com');
  });

  it('every line is JSON with the access-log fields, and no secret appears anywhere in the output', () => {
    const all = output.join('');
    expect(lines().length).toBeGreaterThanOrEqual(10);
    for (const l of parsed().filter((x) => x.req)) {
      expect(typeof l.req.method).toBe('string');
      expect(typeof l.req.path).toBe('string');
      expect(typeof l.res.status).toBe('number');
      expect(typeof l.duration_ms).toBe('number');
      expect(typeof l.request_id).toBe('string');
      expect(l).toHaveProperty('user_id');
      expect(l.request_id.length).toBeGreaterThan(0);
    }
    // the authenticated call carried a real, valid token: neither it nor its signature is logged
    const secrets = [
      REGISTER_PASSWORD,
      FORM_PASSWORD,
      JSON_PASSWORD,
      QUERY_PASSWORD,
      CURRENT_PASSWORD,
      NEW_PASSWORD,
      ISSUED_TOKEN,
      ISSUED_REFRESH,
      PRESENTED_REFRESH,
      bearer,
      bearer.split('.')[2]!,
      GARBAGE_TOKEN,
      'secretvalue',
    ];
    for (const s of secrets) expect(all, `log output contains ${s}`).not.toContain(s);
  });
});

describe('access log: personal data by what it means, wherever it stands (issue 18)', () => {
  // Distinctive values: found in the output only if some line carries them.
  const USERNAME = 'zebulon_quixote';
  const EMAIL = 'zebulon.quixote@example.com';
  const FIO = 'Zebulon Quixote';
  const TAGS = ['narwhal-club', 'oboe-players'];
  const TOTP = {
    secret: 'JBSWY3DPEHPK3PXPZEBULONSECRET',
    otpauth_uri: 'otpauth://totp/Test:zq?secret=JBSWY3DPEHPK3PXPZEBULONSECRET',
    qr_code: 'data:image/svg+xml;base64,UVJDT0RFWkVCVUxPTg==',
  };
  const RECOVERY = ['rcvry-zebul', 'rcvry-quixo'];
  const userId = newUserId();
  let bearer: string;
  const start = output.length;
  const ours = () => output.slice(start).join('');

  beforeAll(async () => {
    bearer = await signToken(h.key, { sub: String(userId) });
  });
  const auth = () => ({ headers: { authorization: `Bearer ${bearer}` } });

  it.each([
    // a path no route matched: every segment that is not a word of some route is masked, decoded first
    [`/${USERNAME}`, '/z***'],
    [`/nowhere/${encodeURIComponent(EMAIL)}`, '/n***/z***@example.com'],
    [`/users/${USERNAME}/profile`, '/users/z***/p***'],
    [`/users/me/${EMAIL}`, '/users/me/z***@example.com'],
    // a route that matched: its shape and ids are kept, a parameter that is no id is masked
    [`/users/${encodeURIComponent(EMAIL)}`, '/users/z***@example.com'],
    [`/users/${USERNAME}`, '/users/z***'],
    [`/users/${userId}/history?limit=2`, `/users/${userId}/history?limit=2`],
  ])('masks the path %s as %s', async (path, logged) => {
    h.rpc.reply = () => [];
    const r = await call(path, auth());
    expect(r.line.req.path).toBe(logged);
    expect(r.line.msg).toContain(logged);
  });

  it("masks a 404's detail, which names the path it could not route, in the logged reply (the client still reads its path)", async () => {
    const r = await call(`/profiles/${USERNAME}`, auth());
    expect(r.status).toBe(404);
    expect(r.text).toContain(USERNAME);
    expect(JSON.stringify(r.line)).not.toContain(USERNAME);
    expect(r.line.response_body).toMatchObject({ detail: 'No route for GET /p***/z***' });
  });

  it('masks %40-encoded addresses and the values of unknown query keys, tags and every filter', async () => {
    h.rpc.reply = () => ({ items: [], total: 0 });
    const query = `email=${encodeURIComponent(EMAIL)}&tags=${TAGS.join(',')}&whois=${USERNAME}&contact=${encodeURIComponent(EMAIL)}&limit=3`;
    const r = await call(`/users/search?${query}`, auth());
    expect(r.line.req.path).toBe('/users/search?email=z***%40example.com&tags=n***%2Co***&whois=z***&contact=z***%40example.com&limit=3');
    const unknown = await call(`/nowhere?note=${encodeURIComponent(FIO)}&x=${encodeURIComponent(EMAIL)}`, auth());
    expect(unknown.line.req.path).toBe('/n***?note=Z***&x=z***%40example.com');
  });

  it('masks tags in bodies, as a list and as comma-separated text', async () => {
    const reply = userReply(userId, { username: USERNAME, email: EMAIL, config: { fio: FIO, birthday: '1990-01-02', tags: TAGS } });
    h.rpc.reply = () => reply;
    const r = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: USERNAME, email: EMAIL, password: 'Zebulon-Pa55-word', fio: FIO, birthday: '1990-01-02', tags: TAGS.join(', ') }),
    });
    expect(r.status).toBe(201);
    expect(r.line.request_body).toMatchObject({ tags: 'n***,o***' });
    expect(r.line.response_body).toMatchObject({ config: { tags: ['n***', 'o***'] } });
  });

  it('redacts every reply field that carries the TOTP secret (the QR code too) and the recovery codes', async () => {
    h.rpc.reply = () => TOTP;
    const started = await call('/users/me/mfa/totp', { method: 'POST', ...auth() });
    expect(started.status).toBe(200);
    expect(started.line.response_body).toEqual({ secret: '[REDACTED]', otpauth_uri: '[REDACTED]', qr_code: '[REDACTED]' });
    h.rpc.reply = () => ({ recovery_codes: RECOVERY });
    const confirmed = await call('/users/me/mfa/totp/confirm', {
      method: 'POST',
      headers: { ...auth().headers, 'content-type': 'application/json' },
      body: JSON.stringify({ code: '123456' }),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.line.request_body).toEqual({ code: '[REDACTED]' });
    expect(confirmed.line.response_body).toEqual({ recovery_codes: '[REDACTED]' });
  });

  it('leaves none of it anywhere in the output', () => {
    const all = ours();
    const personal = [USERNAME, EMAIL, encodeURIComponent(EMAIL), FIO, encodeURIComponent(FIO), ...TAGS, TOTP.secret, TOTP.qr_code, 'UVJDT0RFWkVCVUxPTg', ...RECOVERY];
    // the check can fail: the values are there to be found in a line that carries them
    expect(JSON.stringify({ path: `/${USERNAME}`, tags: TAGS, uri: TOTP.otpauth_uri })).toContain(USERNAME);
    for (const p of personal) expect(all, `log output contains ${p}`).not.toContain(p);
    expect(all).toContain('z***@example.com');
  });
});

/** A gateway of its own with `mode`, its logger writing into the returned lines. */
async function gatewayLogging(mode: 'full' | 'off') {
  // as main.ts does: full means this process masks nothing
  const { log: logger, output: out } = capturedLogger(mode === 'full' ? 'clear' : 'masked');
  const g = await startGateway(logger, { logBodies: mode });
  const lineOf = async (requestId: string) => {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const found = out.map((l) => JSON.parse(l) as AccessLine).find((l) => l.request_id === requestId && l.req);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no access log line for ${requestId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const register = async () => {
    g.rpc.reply = () => LOGIN_USER;
    const res = await fetch(`${g.url}/register?email=alice%40example.com&token=secretvalue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice_1', email: 'alice@example.com', password: REGISTER_PASSWORD, fio: 'Alice Example', birthday: '1990-01-02' }),
    });
    expect(res.status).toBe(201);
    return lineOf(res.headers.get('x-request-id')!);
  };
  return { g, out, register };
}

describe('LOG_BODIES=full', () => {
  it('logs bodies and query values as sent, secrets still redacted', async () => {
    const { g, out, register } = await gatewayLogging('full');
    try {
      const line = await register();
      expect(line.req.path).toBe('/register?email=alice%40example.com&token=%5BREDACTED%5D');
      expect(line.request_body).toEqual({ username: 'alice_1', email: 'alice@example.com', password: '[REDACTED]', fio: 'Alice Example', birthday: '1990-01-02' });
      expect(line.response_body).toEqual(LOGIN_USER);
      expect(out.join('')).not.toContain(REGISTER_PASSWORD);
      expect(out.join('')).not.toContain('secretvalue');
    } finally {
      await g.close();
    }
  });
});

describe('LOG_BODIES=off', () => {
  it('logs method, path, status, duration and ids, and no body at all', async () => {
    const { g, out, register } = await gatewayLogging('off');
    try {
      const line = await register();
      expect(line).toMatchObject({ req: { method: 'POST', path: '/register?email=a***%40example.com&token=%5BREDACTED%5D' }, res: { status: 201 }, user_id: null });
      expect(typeof line.duration_ms).toBe('number');
      expect(typeof line.request_id).toBe('string');
      expect(line).not.toHaveProperty('request_body');
      expect(line).not.toHaveProperty('response_body');
      for (const personal of ['alice_1', 'alice@example.com', 'Alice Example', '1990-01-02']) expect(out.join('')).not.toContain(personal);
    } finally {
      await g.close();
    }
  });
});
