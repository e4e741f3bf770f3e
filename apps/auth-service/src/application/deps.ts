import type { Jwks } from '@um/contracts';
import type { IdempotencyStore, Logger, Pool, RpcClient } from '@um/platform';
import type { SigningKey } from '../keys/key-store.js';

export interface ThrottleSettings {
  /** Failed password checks per account (or device, or password change) before delays start. */
  freeAttempts: number;
  /** Failed password checks per client address before delays start: high, many users share an address. */
  addressFreeAttempts: number;
  /** Longest delay for one account: a stranger cannot lock a user out for longer. */
  accountMaxDelaySeconds: number;
  /** Longest delay for one client address. */
  addressMaxDelaySeconds: number;
  /** Failures older than this are forgotten. */
  windowSeconds: number;
  /** An IPv6 client address is counted by its network of this many bits. */
  ipv6Prefix: number;
}

/** Everything auth-service's use cases touch. */
export interface AuthDeps {
  pool: Pool;
  rpc: Pick<RpcClient, 'call'>;
  signingKey: () => SigningKey;
  jwks: () => Jwks;
  /** Refuse every token of these sessions on every gateway. */
  revokeSessions: (sessionIds: string[]) => Promise<void>;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** A spent refresh token presented again within this many seconds gets its successor instead of ending the session (0: never). */
  refreshReuseIntervalSeconds: number;
  throttle: ThrottleSettings;
  /** Lifetime of the ticket between a right password and the second factor. */
  mfaTicketTtlSeconds: number;
  /** A session opened by a password check this recently counts as a fresh login (removing the second factor). */
  reauthWindowSeconds: number;
  /** HMAC key of throttle counters. */
  throttleSecret: Buffer;
  /** HMAC key of device cookies. */
  deviceSecret: Buffer;
  clock: () => Date;
  log: Logger;
  /** Outcomes of login, refresh, logout and password changes by idempotency key. */
  idempotency: IdempotencyStore;
}
