import type { Profile } from '@um/contracts';
import { IdempotencyStore, loadProfile, serverSecret, type Logger, type Pool } from '@um/platform';
import type { UsersDeps } from './application/deps.js';
import type { UsersConfig } from './config.js';
import { createPasswordPolicy } from './domain/password-policy.js';
import { PasswordHasher } from './password-hasher.js';

/** The use cases' dependencies from the configuration: the same for the service and its admin command line. */
export async function createUsersDeps(
  config: UsersConfig,
  pool: Pool,
  log: Logger,
  revokeTokens: UsersDeps['revokeTokens'],
  /** The declared profile attributes (`PROFILE_SCHEMA`), the same file the gateway loads. */
  profile: Profile = loadProfile(config.PROFILE_SCHEMA),
): Promise<UsersDeps> {
  return {
    pool,
    hasher: new PasswordHasher(config.BCRYPT_COST),
    passwordPolicy: createPasswordPolicy({ denylist: config.PASSWORD_DENYLIST === 'on' }),
    revokeTokens,
    clock: () => new Date(),
    log,
    emailConfirmation: { ttlSeconds: config.EMAIL_CONFIRMATION_TTL, resendIntervalSeconds: config.EMAIL_RESEND_INTERVAL },
    ipv6Prefix: config.THROTTLE_IPV6_PREFIX,
    registrationLimit: { perWindow: config.REGISTRATION_RATE_LIMIT, windowSeconds: config.REGISTRATION_RATE_WINDOW },
    // No key-encryption key here: these secrets only key rate-limit counters and idempotency records, and live beside them.
    rateLimitSecret: await serverSecret(pool, 'rate_limit', {}),
    passwordReset: {
      ttlSeconds: config.PASSWORD_RESET_TTL,
      accountLimit: config.PASSWORD_RESET_ACCOUNT_LIMIT,
      addressLimit: config.PASSWORD_RESET_ADDRESS_LIMIT,
      windowSeconds: config.PASSWORD_RESET_WINDOW,
    },
    emailChange: { cancelTtlSeconds: config.EMAIL_CHANGE_CANCEL_TTL, limit: config.EMAIL_CHANGE_LIMIT, windowSeconds: config.EMAIL_CHANGE_WINDOW },
    mfaIssuer: config.MFA_ISSUER,
    mfaTrustAfterSeconds: config.MFA_TRUST_AFTER,
    paging: { maxPageSize: config.MAX_PAGE_SIZE, exactCountLimit: config.EXACT_COUNT_LIMIT },
    idempotency: new IdempotencyStore(await serverSecret(pool, 'idempotency', {})),
    profile,
  };
}
