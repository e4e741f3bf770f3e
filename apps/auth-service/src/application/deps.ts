import type { Jwks } from '@um/contracts';
import type { Logger, Pool, RpcClient } from '@um/platform';
import type { SigningKey } from '../keys/key-store.js';

export interface ThrottleSettings {
  /** Failures allowed before delays start. */
  freeAttempts: number;
  /** Longest delay for one account: a stranger cannot lock a user out for longer. */
  accountMaxDelaySeconds: number;
  /** Longest delay for one client address. */
  addressMaxDelaySeconds: number;
  /** Failures older than this are forgotten. */
  windowSeconds: number;
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
  throttle: ThrottleSettings;
  clock: () => Date;
  log: Logger;
}
