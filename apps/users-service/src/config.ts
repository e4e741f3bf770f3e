import { Email, Password, Username } from '@um/contracts';
import { AccessTokenTtl, BaseEnv, DatabaseEnv, DurationSeconds, Ipv6Prefix, optionalEnv, parseConfig, ProfileEnv, SchemaName } from '@um/platform';
import { z } from 'zod';
import { createPasswordPolicy, passwordProblem } from './domain/password-policy.js';

export const UsersEnv = BaseEnv.extend(DatabaseEnv.shape)
  .extend(ProfileEnv.shape)
  .extend({
    USERS_DB_SCHEMA: SchemaName.default('users_service'),
    /** auth-service's access-token lifetime (same variable, same value): forwarded tokens living longer are refused. */
    ACCESS_TOKEN_TTL: AccessTokenTtl,
    BCRYPT_COST: z.coerce.number().int().min(4, 'must be at least 4').max(15, 'must be at most 15').default(12),
    /** How long an email confirmation link stays valid. */
    EMAIL_CONFIRMATION_TTL: DurationSeconds.default(24 * 3600).pipe(z.number().min(60, 'must be at least 60 seconds')),
    /** Least time between two confirmation emails for one user. */
    EMAIL_RESEND_INTERVAL: DurationSeconds.default(60),
    /** Self-registrations allowed per client address per `REGISTRATION_RATE_WINDOW`. */
    REGISTRATION_RATE_LIMIT: z.coerce.number().int().min(1).default(20),
    REGISTRATION_RATE_WINDOW: DurationSeconds.default(3600),
    /** How long a password reset link stays valid. */
    PASSWORD_RESET_TTL: DurationSeconds.default(1800).pipe(z.number().min(60, 'must be at least 60 seconds')),
    /** Password reset requests allowed per account, and per client address, per `PASSWORD_RESET_WINDOW`. */
    PASSWORD_RESET_ACCOUNT_LIMIT: z.coerce.number().int().min(1).default(3),
    PASSWORD_RESET_ADDRESS_LIMIT: z.coerce.number().int().min(1).default(20),
    PASSWORD_RESET_WINDOW: DurationSeconds.default(3600),
    /** How long the owner may cancel an address change from the link sent to the old address (reverting it if it took effect). */
    EMAIL_CHANGE_CANCEL_TTL: DurationSeconds.default(14 * 24 * 3600).pipe(z.number().min(3600, 'must be at least an hour')),
    /** Address changes allowed per account, and per new address, per `EMAIL_CHANGE_WINDOW`. */
    EMAIL_CHANGE_LIMIT: z.coerce.number().int().min(1).default(3),
    EMAIL_CHANGE_WINDOW: DurationSeconds.default(3600),
    /**
     * A password reset by email link removes a second factor enrolled less than this before it (the
     * enrolment may be an intruder's with a stolen session); an older factor survives and is asked for.
     */
    MFA_TRUST_AFTER: DurationSeconds.default(7 * 24 * 3600),
    /** An IPv6 client is counted by its network of this many bits (registrations, reset requests): one counter per /64 by default. */
    THROTTLE_IPV6_PREFIX: Ipv6Prefix,
    /** Name authenticator apps show for this service's TOTP entries. */
    MFA_ISSUER: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .refine((s) => !s.includes(':'), 'must not contain ":"')
      .default('User Management'),
    /** Users in a page when the request gives no `limit` (an old client listing "all users"), and the most a `limit` may ask. */
    MAX_PAGE_SIZE: z.coerce.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(1000),
    /**
     * Matches counted exactly for X-Total-Count; beyond, the planner's estimate (flagged `X-Total-Count-Exact: false`).
     * Counting reads a row per match: the cost of a broad filter's page (README, Paging).
     */
    EXACT_COUNT_LIMIT: z.coerce.number().int().min(0, 'must not be negative').max(10_000_000).default(1_000),
    /** Relay: how often to look for events when no notification came. */
    RELAY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    /** `off` stops refusing the ~49,000 most common passwords; the blank and name rules stay. */
    PASSWORD_DENYLIST: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on'),
    ADMIN_USERNAME: optionalEnv(Username),
    ADMIN_EMAIL: optionalEnv(Email),
    ADMIN_PASSWORD: optionalEnv(Password),
  })
  .superRefine((env, ctx) => {
    const admin = [env.ADMIN_USERNAME, env.ADMIN_EMAIL, env.ADMIN_PASSWORD];
    if (admin.some(Boolean) && !admin.every(Boolean))
      for (const name of ['ADMIN_USERNAME', 'ADMIN_EMAIL', 'ADMIN_PASSWORD'] as const)
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'must be set together with the other ADMIN_* variables' });
    // The admin account gets the same password rules as everyone (checked here, so a weak one stops the start).
    if (env.ADMIN_USERNAME && env.ADMIN_EMAIL && env.ADMIN_PASSWORD) {
      const problem = passwordProblem(createPasswordPolicy({ denylist: env.PASSWORD_DENYLIST === 'on' }), env.ADMIN_PASSWORD, {
        username: env.ADMIN_USERNAME,
        email: env.ADMIN_EMAIL,
      });
      if (problem) ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: problem });
    }
  });

export type UsersConfig = Readonly<z.infer<typeof UsersEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): UsersConfig => parseConfig(UsersEnv, env);
