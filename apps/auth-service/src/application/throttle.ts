import { AppError } from '@um/platform';
import type { AuthDeps } from './deps.js';

/** Throttle keys for one login attempt: the account name (normalised) and the client address. */
export function throttleKeys(login: string, clientIp: string | undefined): { account: string; address?: string } {
  return { account: `account:${login.trim().normalize('NFKC').toLowerCase()}`, ...(clientIp ? { address: `address:${clientIp}` } : {}) };
}

/** 429 with Retry-After while either key is in a delay. Answered before any password work. */
export async function assertNotThrottled(deps: AuthDeps, keys: { account: string; address?: string }): Promise<void> {
  const { rows } = await deps.pool.query<{ wait: number }>(
    `SELECT ceil(extract(epoch FROM max(blocked_until) - $2::timestamptz))::int AS wait
       FROM login_throttle WHERE key = ANY($1) AND blocked_until > $2`,
    [[keys.account, keys.address].filter(Boolean), deps.clock()],
  );
  const wait = rows[0]?.wait;
  if (wait && wait > 0)
    throw new AppError('resource_exhausted', 'auth.login_throttled', `Too many failed logins; try again in ${wait} s`, undefined, { retryAfterSeconds: wait });
}

/**
 * Count a failure. After `freeAttempts` failures each further one doubles the delay (1 s, 2 s, 4 s …),
 * up to a cap that is short for an account (so a stranger cannot lock its owner out for long) and
 * long for a client address (so one source cannot keep guessing).
 */
export async function recordFailure(deps: AuthDeps, keys: { account: string; address?: string }): Promise<void> {
  const t = deps.throttle;
  for (const [key, cap] of [
    [keys.account, t.accountMaxDelaySeconds],
    [keys.address, t.addressMaxDelaySeconds],
  ] as const) {
    if (!key) continue;
    await deps.pool.query(
      `INSERT INTO login_throttle AS t (key, failures, last_failure_at, blocked_until) VALUES ($1, 1, $2, NULL)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN t.last_failure_at < $2 - make_interval(secs => $3) THEN 1 ELSE t.failures + 1 END,
         last_failure_at = $2,
         blocked_until = CASE
           WHEN (CASE WHEN t.last_failure_at < $2 - make_interval(secs => $3) THEN 1 ELSE t.failures + 1 END) < $4 THEN NULL
           ELSE $2 + make_interval(secs => least($5, power(2, (CASE WHEN t.last_failure_at < $2 - make_interval(secs => $3) THEN 1 ELSE t.failures + 1 END) - $4)))
         END`,
      [key, deps.clock(), t.windowSeconds, t.freeAttempts, cap],
    );
  }
}

/** A success forgets the account's failures (not the address's: one good password must not reset a guesser). */
export async function recordSuccess(deps: AuthDeps, keys: { account: string }): Promise<void> {
  await deps.pool.query('DELETE FROM login_throttle WHERE key = $1', [keys.account]);
}
