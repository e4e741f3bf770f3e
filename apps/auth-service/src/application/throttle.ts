import { createHash } from 'node:crypto';
import { AppError, withTransaction } from '@um/platform';
import type { AuthDeps } from './deps.js';

export interface ThrottleKey {
  key: string;
  /** Longest delay for this key. */
  capSeconds: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * Throttle keys for one login attempt: the account name and the client address. Names are stored
 * hashed, so the table holds no personal data in clear.
 */
export function loginKeys(deps: AuthDeps, login: string, clientIp: string | undefined): ThrottleKey[] {
  const keys = [{ key: `account:${digest(login.trim().normalize('NFKC').toLowerCase())}`, capSeconds: deps.throttle.accountMaxDelaySeconds }];
  if (clientIp) keys.push({ key: `address:${digest(clientIp)}`, capSeconds: deps.throttle.addressMaxDelaySeconds });
  return keys;
}

/** Attempts to prove the current password of a logged-in user (a password change) count like logins. */
export const passwordCheckKey = (deps: AuthDeps, userId: string): ThrottleKey => ({ key: `password:${userId}`, capSeconds: deps.throttle.accountMaxDelaySeconds });

/**
 * Count an attempt before it is checked, atomically (row locks), so a burst of concurrent guesses
 * cannot all slip through before the first failure is recorded. While a key is in a delay, answer
 * 429 with Retry-After and count nothing. Once `freeAttempts` attempts are counted, each further one
 * doubles the delay (1 s, 2 s, 4 s …) up to the key's cap: short for an account, so a stranger cannot
 * lock its owner out for long; long for an address, so one source cannot keep guessing. A success
 * clears the account's count (`clearAttempts`).
 */
export async function claimAttempt(deps: AuthDeps, keys: ThrottleKey[]): Promise<void> {
  const t = deps.throttle;
  const now = deps.clock();
  const wait = await withTransaction(deps.pool, async (client) => {
    let longest = 0;
    for (const { key, capSeconds } of [...keys].sort((a, b) => a.key.localeCompare(b.key))) {
      await client.query(`INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ($1, 0, 'epoch') ON CONFLICT (key) DO NOTHING`, [key]);
      const { rows } = await client.query<{ failures: number; last_failure_at: Date; blocked_until: Date | null }>(
        'SELECT failures, last_failure_at, blocked_until FROM login_throttle WHERE key = $1 FOR UPDATE',
        [key],
      );
      const row = rows[0]!;
      if (row.blocked_until && row.blocked_until > now) {
        longest = Math.max(longest, Math.ceil((row.blocked_until.getTime() - now.getTime()) / 1000));
        continue;
      }
      const count = row.last_failure_at.getTime() < now.getTime() - t.windowSeconds * 1000 ? 1 : row.failures + 1;
      const delay = count >= t.freeAttempts ? Math.min(capSeconds, 2 ** Math.min(count - t.freeAttempts, 30)) : 0;
      await client.query('UPDATE login_throttle SET failures = $2, last_failure_at = $3, blocked_until = $4 WHERE key = $1', [
        key,
        count,
        now,
        delay ? new Date(now.getTime() + delay * 1000) : null,
      ]);
    }
    return longest;
  });
  if (wait > 0) throw new AppError('resource_exhausted', 'auth.throttled', `Too many failed attempts; try again in ${wait} s`, undefined, { retryAfterSeconds: wait });
  // Rows whose window passed long ago are of no use: keep the table small.
  if (Math.random() < 0.01)
    await deps.pool.query("DELETE FROM login_throttle WHERE last_failure_at < $1 AND (blocked_until IS NULL OR blocked_until < $1)", [new Date(now.getTime() - 2 * t.windowSeconds * 1000)]);
}

/** A success forgets the account's count (not the address's: one good password must not reset a guesser). */
export async function clearAttempts(deps: AuthDeps, key: ThrottleKey): Promise<void> {
  await deps.pool.query('DELETE FROM login_throttle WHERE key = $1', [key.key]);
}
