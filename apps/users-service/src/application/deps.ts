import type { Profile } from '@um/contracts';
import type { IdempotencyStore, IdempotentCall, Logger, Pool } from '@um/platform';
import type { PasswordPolicy } from '../domain/password-policy.js';
import type { PasswordHasher } from '../password-hasher.js';
import type { Paging } from './queries.js';

/** Everything a use case may touch, passed in (tests swap any of it). */
export interface UsersDeps {
  pool: Pool;
  hasher: PasswordHasher;
  /** What makes a new password acceptable, checked before any hashing. */
  passwordPolicy: PasswordPolicy;
  /**
   * Refuse, on every gateway, the user's tokens whose authorization version is below
   * `belowVersion` (`ALL_VERSIONS` for a deleted user). Called after the change commits; the relay
   * calls it again for the same event, so a crash in between loses nothing.
   */
  revokeTokens: (userId: number, belowVersion: number) => Promise<void>;
  clock: () => Date;
  log: Logger;
  emailConfirmation: { ttlSeconds: number; resendIntervalSeconds: number };
  /** HMAC key of the rate-limit counters (a server secret in this service's schema). */
  rateLimitSecret: Buffer;
  /** Per-address limits count an IPv6 client by its network of this many bits. */
  ipv6Prefix: number;
  /** Self-registrations allowed per client address per window. */
  registrationLimit: { perWindow: number; windowSeconds: number };
  /** Reset links: how long one stays valid, and requests allowed per account and per client address per window. */
  passwordReset: { ttlSeconds: number; accountLimit: number; addressLimit: number; windowSeconds: number };
  /**
   * Address changes: the confirmation link lives as long as an email confirmation's; the cancel link
   * sent to the old address `cancelTtlSeconds`; `limit` requests per account and per new address per window.
   */
  emailChange: { cancelTtlSeconds: number; limit: number; windowSeconds: number };
  /** Issuer shown by authenticator apps next to the account name. */
  mfaIssuer: string;
  /** A reset by email link removes a second factor younger than this (MFA_TRUST_AFTER). */
  mfaTrustAfterSeconds: number;
  /** The declared profile attributes (`PROFILE_SCHEMA`), the same file the gateway loads. */
  profile: Profile;
  /** Page sizes (MAX_PAGE_SIZE) and how many matches are counted exactly (EXACT_COUNT_LIMIT). */
  paging: Paging;
  /** Outcomes of writes by idempotency key, recorded in each write's transaction. */
  idempotency: IdempotencyStore;
}

/** Who asked: for event metadata and for the privileged commands' check of the actor. */
export interface CallerMeta {
  requestId: string;
  actorId: string | null;
  /** The service itself (the admin bootstrap at start-up), not a caller. */
  system?: boolean;
  /** The caller's idempotency key for this write: its outcome is recorded with the write. */
  idempotency?: IdempotentCall;
}
