import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { TOKEN, type TokenSubject } from '@um/contracts';
import { sha256 } from '@um/platform';
import { SignJWT } from 'jose';
import type { SigningKey } from '../keys/key-store.js';

/**
 * Sign an RFC 9068 access token. `iat` keeps milliseconds (a fractional NumericDate), so a
 * revocation at instant T refuses exactly the tokens issued before T; `ver` is the authorization
 * version the role was read at, so a role change refuses every token read before it.
 */
export async function issueAccessToken(key: SigningKey, subject: TokenSubject, sessionId: string, ttlSeconds: number, now = Date.now()): Promise<string> {
  const iat = now / 1000;
  return (
    new SignJWT({ role: subject.role, sid: sessionId, ver: subject.authz_version })
      .setProtectedHeader({ alg: TOKEN.algorithm, kid: key.kid, typ: TOKEN.type })
      .setIssuer(TOKEN.issuer)
      .setAudience(TOKEN.audience)
      // RFC 7519: `sub` is a string; the user's id in decimal.
      .setSubject(String(subject.user_id))
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(Math.floor(iat) + ttlSeconds)
      .sign(key.privateKey)
  );
}

/** An opaque refresh token (256 random bits) and the hash that is all we keep of it. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

/** The key that seals a spent token's successor: derived from the spent token, which only its holder has. */
const successorKey = (spent: string) => sha256(`um-refresh-successor|${spent}`);

/** The successor of a spent refresh token, readable only with the spent token (AES-256-GCM, bound to its hash). */
export function sealSuccessor(spent: string, successor: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(spent), iv);
  cipher.setAAD(sha256(spent));
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openSuccessor(spent: string, sealed: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', successorKey(spent), sealed.subarray(0, 12));
    decipher.setAAD(sha256(spent));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
