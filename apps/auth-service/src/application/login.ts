import { randomUUID } from 'node:crypto';
import { Rpcs, TOKEN, type Login, type TokenReply, type User } from '@um/contracts';
import type { RpcClient, RpcContext } from '@um/platform';
import { SignJWT } from 'jose';
import type { SigningKey } from '../keys/key-store.js';

export interface LoginDeps {
  rpc: RpcClient;
  signingKey: () => SigningKey;
  accessTokenTtl: number;
}

/** Sign an RFC 9068 access token for the user. */
export async function issueAccessToken(key: SigningKey, user: Pick<User, 'id' | 'role'>, ttlSeconds: number): Promise<string> {
  return new SignJWT({ role: user.role })
    .setProtectedHeader({ alg: TOKEN.algorithm, kid: key.kid, typ: TOKEN.type })
    .setIssuer(TOKEN.issuer)
    .setAudience(TOKEN.audience)
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key.privateKey);
}

/** Password check happens in users-service, where the hash is; this service only signs. */
export async function login(deps: LoginDeps, req: Login, ctx: RpcContext): Promise<TokenReply> {
  const user = await deps.rpc.call(Rpcs.users.verifyCredentials, { username: req.username, password: req.password }, { requestId: ctx.requestId });
  const access_token = await issueAccessToken(deps.signingKey(), user, deps.accessTokenTtl);
  ctx.log.info({ user_id: user.id }, 'login succeeded');
  return { access_token, token_type: 'bearer', expires_in: deps.accessTokenTtl };
}
