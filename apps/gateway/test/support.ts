import { randomInt, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKEN, type Jwks, type Rpc } from '@um/contracts';
import { AppError, createLogger, type CallMeta, type Logger, type Registry } from '@um/platform';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { DirectorySettings } from '../src/access/directory.js';
import { createApp, type Readiness } from '../src/app.js';
import { TokenVerifier } from '@um/platform';
import type { LogBodies } from '../src/http/middleware/logging.js';
import { createHttpServer, type HttpTimeouts } from '../src/http/server.js';

export const KID = 'test-key-1';

export interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid = KID): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { publicKey, privateKey, jwk };
}

export interface TokenOptions {
  sub?: string;
  role?: string;
  /** Session id claim (auth-service's sessions); a fresh uuid unless given. */
  sid?: string;
  kid?: string;
  typ?: string;
  iss?: string;
  aud?: string;
  jti?: string;
  /** Seconds since the epoch. */
  iat?: number;
  exp?: number;
}

const now = () => Math.floor(Date.now() / 1000);

/** A user id of its own (ids are positive integers). */
export const newUserId = () => randomInt(1, 2 ** 47);
/** A token subject: a user id in decimal, as auth-service signs it. */
export const newSub = () => String(newUserId());

/** An access token as auth-service's `issueAccessToken` signs it, with any part overridable. */
export function signToken(key: KeyPair, o: TokenOptions = {}): Promise<string> {
  const iat = o.iat ?? now();
  return new SignJWT({ role: o.role ?? 'user', sid: o.sid ?? randomUUID() })
    .setProtectedHeader({ alg: TOKEN.algorithm, kid: o.kid ?? key.jwk.kid!, typ: o.typ ?? TOKEN.type })
    .setIssuer(o.iss ?? TOKEN.issuer)
    .setAudience(o.aud ?? TOKEN.audience)
    .setSubject(o.sub ?? newSub())
    .setJti(o.jti ?? randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(o.exp ?? iat + 900)
    .sign(key.privateKey);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An unsigned `alg: none` JWT with otherwise valid claims. */
export function unsignedToken(sub: string, role = 'admin'): string {
  const t = now();
  const header = { alg: 'none', typ: TOKEN.type, kid: KID };
  const payload = { role, sid: randomUUID(), iss: TOKEN.issuer, aud: TOKEN.audience, sub, jti: randomUUID(), iat: t, exp: t + 900 };
  return `${b64url(header)}.${b64url(payload)}.`;
}

/** What the gateway sent to a service. */
export interface RecordedCall {
  rpc: string;
  input: unknown;
  meta: CallMeta;
}

export type Reply = (rpc: string, input: unknown) => unknown;

/**
 * A scripted stand-in for RpcClient: records every call and answers with `reply`. Like the real
 * pair of client and service, it holds both sides to the contract: an input the RPC's request
 * schema refuses fails the call (so a gateway sending a wrong shape cannot pass a test), and a
 * reply is parsed with the reply schema, failing as `rpc.bad_reply` the way RpcClient does.
 */
export class FakeRpc {
  readonly calls: RecordedCall[] = [];
  reply: Reply = () => {
    throw new Error('no reply scripted');
  };

  /**
   * The presence checks (`auth.reauthenticate`) asked before what hands over the account, kept apart
   * from `calls` and answered by `reauthentication`: present, unless a test sets a refusal, so tests
   * of what such a route forwards need not script it.
   */
  readonly reauthentications: RecordedCall[] = [];
  reauthentication: () => unknown = () => ({ status: 'ok' });

  call = async <R extends Rpc>(rpc: R, input: unknown, meta: CallMeta): Promise<never> => {
    const presence = rpc.name === 'auth.reauthenticate';
    (presence ? this.reauthentications : this.calls).push({ rpc: rpc.name, input: structuredClone(input), meta: { ...meta } });
    const req = rpc.request.safeParse(input);
    if (!req.success) throw new Error(`the gateway sent ${rpc.name} an input its contract refuses: ${req.error.message}`);
    const reply = rpc.reply.safeParse(await (presence ? this.reauthentication() : this.reply(rpc.name, input)));
    if (!reply.success) throw new AppError('internal', 'rpc.bad_reply', 'Internal error', undefined, { cause: reply.error });
    return reply.data as never;
  };

  reset(): void {
    this.calls.length = 0;
    this.reauthentications.length = 0;
    this.reauthentication = () => ({ status: 'ok' });
    this.reply = () => {
      throw new Error('no reply scripted');
    };
  }
}

export class FakeRevocations {
  /** Users all of whose tokens are refused. */
  revoked = new Set<number>();
  /** Sessions all of whose tokens are refused. */
  revokedSessions = new Set<string>();
  /** Every question asked: subject, iat, session. */
  readonly asked: Array<[userId: number, iat: number, sessionId: string | undefined]> = [];
  isRevoked = (userId: number, iat: number, sessionId?: string) => {
    this.asked.push([userId, iat, sessionId]);
    return this.revoked.has(userId) || (sessionId !== undefined && this.revokedSessions.has(sessionId));
  };

  reset(): void {
    this.revoked.clear();
    this.revokedSessions.clear();
    this.asked.length = 0;
  }
}

export interface Harness {
  url: string;
  key: KeyPair;
  rpc: FakeRpc;
  revocations: FakeRevocations;
  readiness: { value: Readiness };
  jwksFetches: () => number;
  close(): Promise<void>;
}

/** The real app with a real TokenVerifier over a JWKS made here, a fake RPC client and a fake revocation cache. */
export async function startGateway(
  log: Logger = createLogger('gateway', 'silent'),
  { timeouts, ...opts }: { trustProxy?: string; logBodies?: LogBodies; directory?: DirectorySettings; namespace?: string; timeouts?: HttpTimeouts; metrics?: Registry } = {},
): Promise<Harness> {
  const key = await makeKey();
  const rpc = new FakeRpc();
  const revocations = new FakeRevocations();
  let fetches = 0;
  const jwks: Jwks = { keys: [key.jwk as Jwks['keys'][number]] };
  const verifier = new TokenVerifier(
    async () => {
      fetches++;
      return jwks;
    },
    revocations,
    log,
  );
  const readiness = { value: { ok: true, checks: { nats: 'ok', users: 'ok', auth: 'ok' } } as Readiness };
  const app = createApp({ rpc, verifier, readiness: async () => readiness.value, log, ...opts });
  const server: Server = await new Promise((resolve) => {
    // With `timeouts`, the server main.ts makes; else Express's own (Node's default timeouts).
    const s = timeouts ? createHttpServer(app, timeouts).listen(0, '127.0.0.1', () => resolve(s)) : app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    rpc,
    revocations,
    readiness,
    jwksFetches: () => fetches,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The gateway a test file shares: started before its tests, closed after them, and before each test
 * the fake RPC client, the fake revocations and readiness are back to their defaults. What it returns
 * stands for that gateway (it reads through to it once started).
 */
export function useGateway(): Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startGateway();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    started().rpc.reset();
    started().revocations.reset();
    started().readiness.value = { ok: true, checks: { nats: 'ok', users: 'ok', auth: 'ok' } };
  });
  const started = () => {
    if (!h) throw new Error('the gateway is not started yet: use it inside a test or a hook');
    return h;
  };
  return {
    get url() {
      return started().url;
    },
    get key() {
      return started().key;
    },
    get rpc() {
      return started().rpc;
    },
    get revocations() {
      return started().revocations;
    },
    get readiness() {
      return started().readiness;
    },
    jwksFetches: () => started().jwksFetches(),
    close: () => started().close(),
  };
}

/** A user object as users-service answers it. */
export function userReply(id: number = newUserId(), over: Partial<Record<string, unknown>> = {}) {
  return {
    id,
    username: 'alice_1',
    email: 'alice@example.com',
    config: { fio: 'Alice Example', birthday: '1990-01-02', tags: ['a'] },
    role: 'user',
    email_verified: false,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    ...over,
  };
}

/** One `users.history` entry as users-service answers it. */
export function historyEntry(over: Partial<Record<string, unknown>> = {}) {
  return {
    event_id: randomUUID(),
    type: 'UserUpdated',
    version: 2,
    occurred_at: '2024-01-02T00:00:00.000Z',
    actor_id: null,
    request_id: 'req-1',
    changes: { fio: { from: 'Alice Example', to: 'Alice B. Example' } },
    ...over,
  };
}

/** An `auth.login` reply: tokens and the user. */
export function loginReply(user = userReply()) {
  return { access_token: 'eyJhbGciOiJFZERTQSJ9.fake.sig', token_type: 'bearer', expires_in: 900, refresh_token: 'r3fr3sh-t0ken-abcdef', user };
}

/** What auth-service answers a login: the HTTP reply plus the device token the gateway turns into a cookie. */
export const DEVICE_TOKEN = 'd1.AAAAAAAAAAAAAAAAAAAAAA.42.devicemac';
export function loginRpcReply(user = userReply()) {
  return { ...loginReply(user), device_token: DEVICE_TOKEN };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export type SendInit = RequestInit & { token?: string; json?: unknown };

/** `send` (any request; `token` becomes a bearer header, `json` a JSON body) and `postJson` against the harness `harness()` returns. */
export function requester(harness: () => Harness) {
  async function send(path: string, init: SendInit = {}): Promise<Answer> {
    const { token, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const res = await fetch(`${harness().url}${path}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  }
  const postJson = (path: string, body: unknown, init: SendInit = {}) => send(path, { ...init, method: 'POST', json: body });
  return { send, postJson };
}

/** An RFC 9457 problem answer with `status` (and `code`), quoting the request id. */
export function expectProblem(a: Answer, status: number, code?: string) {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(a.body).toMatchObject({ type: 'about:blank', status });
  expect(typeof a.body.title).toBe('string');
  expect(typeof a.body.detail).toBe('string');
  expect(a.body.detail.length).toBeGreaterThan(0);
  expect(a.body.request_id).toBe(a.headers.get('x-request-id'));
  if (code) expect(a.body.code).toBe(code);
}

/** The fields a 422's `errors` name, sorted. */
export const fieldsOf = (a: Answer) => (a.body.errors as { field: string }[]).map((e) => e.field).sort();

/** Path ids that name no user: not a whole number from 1 to 2^53 - 1 in plain decimal. */
export const MALFORMED_IDS = ['not-an-id', '0', '-1', '0123', '+12', '1.5', '1e3', '0x1f', randomUUID(), '9007199254740992', '99999999999999999999', "1'%20OR%20'1'='1"];

/** A 204: no body at all, and nothing that announces one. */
export function expectNoContent(a: Answer) {
  expect(a.status, a.text).toBe(204);
  expect(a.text).toBe('');
  expect(a.headers.get('content-type')).toBeNull();
  expect(a.headers.get('content-length') ?? '0').toBe('0');
}
