import { createHmac } from 'node:crypto';
import { loginNameKey, type ErrorIdOf } from '@um/contracts';
import { AppError } from '@um/platform';
import type pg from 'pg';

/**
 * The key a count is kept under: an HMAC of what is counted (a client address, an account) under a
 * server secret, so the table holds no address or name a dictionary could read back.
 */
export const limitKey = (secret: Buffer, kind: string, value: string) => `${kind}:${createHmac('sha256', secret).update(`${kind}|${value}`).digest('base64url')}`;

/**
 * Count one attempt for `key` in a fixed window; over `limit`, refuse with the seconds until the
 * window ends. One upsert, so replicas share the count and nothing races.
 */
export async function hit(
  db: pg.Pool | pg.PoolClient,
  key: string,
  limit: number,
  windowSeconds: number,
  now: Date,
  refusal: { id: ErrorIdOf<'resource_exhausted'>; what: string } = { id: 'users.registration_rate_limited', what: 'Too many registrations from this address' },
): Promise<void> {
  const { rows } = await db.query<{ count: number; window_start: Date }>(
    `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3) THEN 1 ELSE rate_limits.count + 1 END,
       window_start = CASE WHEN rate_limits.window_start <= $2 - make_interval(secs => $3) THEN $2 ELSE rate_limits.window_start END
     RETURNING count, window_start`,
    [key, now, windowSeconds],
  );
  const { count, window_start } = rows[0]!;
  if (count > limit) {
    const retry = Math.max(1, Math.ceil((window_start.getTime() + windowSeconds * 1000 - now.getTime()) / 1000));
    throw new AppError('resource_exhausted', refusal.id, `${refusal.what}; try again in ${retry} s`, undefined, {
      retryAfterSeconds: retry,
    });
  }
}

/**
 * Forget every count kept about one account (its erasure): its address-change counts, and the reset
 * request counts kept under its names (`loginNameKey`); address counts name no account.
 */
export async function forgetAccountLimits(db: pg.Pool | pg.PoolClient, secret: Buffer, userId: number, names: string[]): Promise<void> {
  await db.query('DELETE FROM rate_limits WHERE key = ANY($1::text[])', [
    [limitKey(secret, 'email-change-account', `user:${userId}`), ...names.map((name) => limitKey(secret, 'reset-account', loginNameKey(name)))],
  ]);
}
