import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKEN, type Jwks, type Rpc } from '@um/contracts';
import { createLogger, type CallMeta, type Logger } from '@um/platform';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createApp, type Readiness } from '../src/app.js';
import { TokenVerifier } from '../src/auth/verifier.js';

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

/** An access token as auth-service's `issueAccessToken` signs it, with any part overridable. */
export function signToken(key: KeyPair, o: TokenOptions = {}): Promise<string> {
  const iat = o.iat ?? now();
  return new SignJWT({ role: o.role ?? 'user', sid: o.sid ?? randomUUID() })
    .setProtectedHeader({ alg: TOKEN.algorithm, kid: o.kid ?? key.jwk.kid!, typ: o.typ ?? TOKEN.type })
    .setIssuer(o.iss ?? TOKEN.issuer)
    .setAudience(o.aud ?? TOKEN.audience)
    .setSubject(o.sub ?? randomUUID())
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

/** A scripted stand-in for RpcClient: records every call and answers with `reply`. */
export class FakeRpc {
  readonly calls: RecordedCall[] = [];
  reply: Reply = () => {
    throw new Error('no reply scripted');
  };

  call = async <R extends Rpc>(rpc: R, input: unknown, meta: CallMeta): Promise<never> => {
    this.calls.push({ rpc: rpc.name, input: structuredClone(input), meta: { ...meta } });
    return (await this.reply(rpc.name, input)) as never;
  };

  reset(): void {
    this.calls.length = 0;
    this.reply = () => {
      throw new Error('no reply scripted');
    };
  }
}

export class FakeRevocations {
  revoked = new Set<string>();
  isRevoked = (userId: string, _iat: number) => this.revoked.has(userId);
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
export async function startGateway(log: Logger = createLogger('gateway', 'silent')): Promise<Harness> {
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
  const app = createApp({ rpc, verifier, readiness: async () => readiness.value, log });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
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

/** A user object as users-service answers it. */
export function userReply(id: string = randomUUID(), over: Partial<Record<string, unknown>> = {}) {
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
