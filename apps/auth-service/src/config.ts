import { AccessTokenTtl, BaseEnv, DatabaseEnv, DurationSeconds, Ipv6Prefix, optionalEnv, parseConfig, SchemaName, decodeKek, toKek, type KeyRing } from '@um/platform';
import { z } from 'zod';

/** A key-encryption key: 32 bytes as base64 or hex. The message never echoes the value. */
const KekText = optionalEnv(
  z.string().transform((s, ctx) => {
    const key = decodeKek(s);
    if (typeof key === 'string') {
      ctx.addIssue({ code: 'custom', message: key });
      return z.NEVER;
    }
    return toKek(key);
  }),
);

export const AuthEnv = BaseEnv.extend(DatabaseEnv.shape)
  .extend({
    AUTH_DB_SCHEMA: SchemaName.default('auth_service'),
    /** Lifetime of an access token: `900`, `900s`, `15m`, `1h`… at most 24 hours. */
    ACCESS_TOKEN_TTL: AccessTokenTtl,
    /** Lifetime of a session's refresh tokens (sliding: each refresh keeps the session's end). */
    REFRESH_TOKEN_TTL: DurationSeconds.default(30 * 86400).pipe(z.number().min(60, 'must be at least 60 seconds')),
    /** A spent refresh token presented again within this time gets its successor (two tabs); later it ends the session. `0` turns the grace off. */
    REFRESH_REUSE_INTERVAL: DurationSeconds.default(10).pipe(z.number().max(300, 'must be at most 5 minutes')),
    LOGIN_THROTTLE_FREE_ATTEMPTS: z.coerce.number().int().min(1).default(5),
    /** Failed password checks from one client address before delays start: high, since offices and proxies put many users behind one address. */
    LOGIN_THROTTLE_ADDRESS_FREE_ATTEMPTS: z.coerce.number().int().min(1).default(100),
    LOGIN_THROTTLE_ACCOUNT_MAX_DELAY: DurationSeconds.default(60),
    LOGIN_THROTTLE_ADDRESS_MAX_DELAY: DurationSeconds.default(900),
    LOGIN_THROTTLE_WINDOW: DurationSeconds.default(900),
    /** An IPv6 client is counted by its network of this many bits: one counter per /64 by default. */
    THROTTLE_IPV6_PREFIX: Ipv6Prefix,
    /** How long the ticket of a login waiting for its second factor stays valid. */
    MFA_TICKET_TTL: DurationSeconds.default(300).pipe(z.number().min(30, 'must be at least 30 seconds').max(3600, 'must be at most 1 hour')),
    /** Reauthentication window: a session this young (opened by a password check) may remove its second factor without a code. */
    REAUTH_WINDOW: DurationSeconds.default(600),
    /** How often replicas look for a rotated signing key. */
    KEY_REFRESH_MS: z.coerce.number().int().min(100).default(30_000),
    /** A new key signs only this long after it was created (default: two refreshes and 5 s). */
    KEY_ACTIVATION_DELAY_MS: optionalEnv(z.coerce.number().int().min(0)),
    /** Key-encryption key sealing the private signing keys at rest (AES-256-GCM). Unset: keys stay in clear, with a warning. */
    SIGNING_KEY_KEK: KekText,
    /** The KEK being rotated away from: keys sealed under it are resealed under SIGNING_KEY_KEK at start. */
    SIGNING_KEY_KEK_PREVIOUS: KekText,
  })
  .superRefine((c, ctx) => {
    if (c.SIGNING_KEY_KEK_PREVIOUS && !c.SIGNING_KEY_KEK)
      ctx.addIssue({ code: 'custom', path: ['SIGNING_KEY_KEK_PREVIOUS'], message: 'needs SIGNING_KEY_KEK (the KEK to rotate to)' });
  })
  .transform((c) => ({ ...c, KEY_ACTIVATION_DELAY_MS: c.KEY_ACTIVATION_DELAY_MS ?? 2 * c.KEY_REFRESH_MS + 5000 }));

export type AuthConfig = Readonly<z.infer<typeof AuthEnv>>;

/** The KEKs that seal and open signing keys. */
export const signingKeyRing = (c: AuthConfig): KeyRing => ({ current: c.SIGNING_KEY_KEK, previous: c.SIGNING_KEY_KEK_PREVIOUS });

export const loadConfig = (env: NodeJS.ProcessEnv): AuthConfig => parseConfig(AuthEnv, env);
