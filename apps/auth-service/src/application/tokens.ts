import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { TOKEN, type Role } from '@um/contracts';
import { SignJWT } from 'jose';
import type { SigningKey } from '../keys/key-store.js';

/**
 * Sign an RFC 9068 access token. `iat` keeps milliseconds (a fractional NumericDate), so a
 * revocation at instant T refuses exactly the tokens issued before T.
 */
export async function issueAccessToken(key: SigningKey, user: { id: string; role: Role }, sessionId: string, ttlSeconds: number, now = Date.now()): Promise<string> {
  const iat = now / 1000;
  return new SignJWT({ role: user.role, sid: sessionId })
    .setProtectedHeader({ alg: TOKEN.algorithm, kid: key.kid, typ: TOKEN.type })
    .setIssuer(TOKEN.issuer)
    .setAudience(TOKEN.audience)
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(Math.floor(iat) + ttlSeconds)
    .sign(key.privateKey);
}

/** An opaque refresh token (256 random bits) and the hash that is all we keep of it. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest();
