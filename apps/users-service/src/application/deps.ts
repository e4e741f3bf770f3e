import type { Logger, Pool } from '@um/platform';
import type { PasswordPolicy } from '../domain/password-policy.js';
import type { PasswordHasher } from '../passwords.js';

/** Everything a use case may touch, passed in (tests swap any of it). */
export interface UsersDeps {
  pool: Pool;
  hasher: PasswordHasher;
  /** What makes a new password acceptable, checked before any hashing. */
  passwordPolicy: PasswordPolicy;
  /**
   * Make every token of the user issued before now invalid, on every gateway; `forever` refuses any
   * token of that user, also ones signed in the instants before the change commits (deletion).
   */
  revokeTokens: (userId: string, opts?: { forever?: boolean }) => Promise<void>;
  clock: () => Date;
  log: Logger;
  emailConfirmation: { ttlSeconds: number; resendIntervalSeconds: number };
  /** Self-registrations allowed per client address per window. */
  registrationLimit: { perWindow: number; windowSeconds: number };
}

/** Who asked, for event metadata. */
export interface CallerMeta {
  requestId: string;
  actorId: string | null;
}
