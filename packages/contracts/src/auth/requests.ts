import { z } from 'zod';
import { Role } from '../users/user.js';

/** `POST /login` body (JSON or OAuth2 password form), and the `auth.login` request. */
export const Login = z.object({
  username: z.string({ error: 'is required' }).trim().min(1, 'is required').max(254, 'must be at most 254 characters'),
  password: z.string({ error: 'is required' }).min(1, 'is required').max(1024, 'must be at most 1024 characters'),
  grant_type: z.literal('password', { error: 'must be "password"' }).optional(),
});
export type Login = z.infer<typeof Login>;

/** OAuth2-style token reply. */
export const TokenReply = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int().positive(),
});
export type TokenReply = z.infer<typeof TokenReply>;

/** A public verification key (JWK) as published by auth-service. */
export const PublicJwk = z.looseObject({ kid: z.string(), kty: z.string(), alg: z.string(), use: z.literal('sig').optional() });
export const Jwks = z.object({ keys: z.array(PublicJwk) });
export type Jwks = z.infer<typeof Jwks>;

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
  sub: z.uuid(),
  role: Role,
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string(),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

/** Revocation record in the revocations bucket, key `user.<id>`: tokens issued before this instant are refused. */
export const UserRevocation = z.object({ revoked_before: z.number().int() });
export type UserRevocation = z.infer<typeof UserRevocation>;
export const revocationKey = { user: (id: string) => `user.${id}` } as const;
/** Longest an access token may live; revocation records are kept this long. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 24 * 3600;
