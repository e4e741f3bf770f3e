import { z } from 'zod';
import { Role } from '../users/user.js';
import { UserIdString } from '../users/user-id.js';

/** Values pinned by both the signer and every verifier. */
export const TOKEN = {
  issuer: 'user-management/auth-service',
  audience: 'user-management/api',
  /** RFC 9068 access-token type; a verifier refuses any other `typ`. */
  type: 'at+jwt',
  algorithm: 'EdDSA',
} as const;

/** Claims of an access token beyond the registered ones. */
export const AccessClaims = z.object({
  /** The user's id as a decimal string (RFC 7519 makes `sub` a string); parsed to the number. */
  sub: UserIdString,
  role: Role,
  /** Session (refresh-token family) the token belongs to. */
  sid: z.uuid(),
  /** Issued-at with millisecond precision (RFC 7519 allows fractional NumericDate), so revocations are exact. */
  iat: z.number(),
  /**
   * The user's authorization version when the role in this token was read (users-service's stream
   * version). A role change or deletion refuses every token below the version it created, whenever
   * the token was signed. Absent in tokens from before versions existed: counts as 0.
   */
  ver: z.number().int().nonnegative().default(0),
  exp: z.number().int(),
  jti: z.string(),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

/** Longest an access token may live; revocation records are kept this long. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 24 * 3600;
