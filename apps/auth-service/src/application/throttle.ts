import { createHmac } from 'node:crypto';
import { loginNameKey } from '@um/contracts';
import { addressLimitKey, AppError, withTransaction } from '@um/platform';
import type { AuthDeps } from './deps.js';

/** What a counter stands for; it decides the 429's wording and whether a success forgets failures. */
export type ThrottleKind = 'name' | 'device' | 'address' | 'password' | 'second_factor';

export interface ThrottleKey {
  kind: ThrottleKind;
  /** HMAC of what is counted under the server secret: the table holds no name or address. */
  key: string;
  /** Failed checks allowed before delays start. */
  freeAttempts: number;
  /** Longest delay for this key. */
  capSeconds: number;
  /** The user the counter belongs to, so it goes when the user is erased. */
  userId: number | null;
}

/** An attempt whose password check is under way; settle it with its outcome. */
export interface Claim {
  keys: ThrottleKey[];
}

/** A failed password check counts; a success forgets the failures of the name (or device) it came with; anything else (503, 504) counts nothing. */
export type Outcome = 'failure' | 'success' | 'neutral';

/** A claim not settled within this long (its process died mid-check) no longer holds a slot. */
const PENDING_TTL_SECONDS = 60;

const hmac = (deps: AuthDeps, what: string) => createHmac('sha256', deps.throttleSecret).update(what).digest('base64url');

/**
 * Keys for one login attempt. The name counter is keyed by the login name as typed (`loginNameKey`:
 * trimmed, by its identity key), never by the account it stands for: a counter shared by an
 * account's username and email would tell a guesser whether the two are one account (failures on
 * one throttling the other). A guesser alternating both names gets each name's free attempts,
 * twice one name's: bounded, and the address counter still counts every try. With a device cookie
 * of the account the name stands for, the device's counter replaces the name's. The address
 * counter has its own, much higher threshold, so many users behind one address are not locked out
 * together. An address is counted as `addressLimitKey` has it: an IPv6 client by its /64 (or
 * THROTTLE_IPV6_PREFIX), an IPv4-mapped address as its IPv4 address.
 */
export function loginKeys(deps: AuthDeps, who: { name: string; userId: number | null; deviceId?: string | undefined }, clientIp: string | undefined): ThrottleKey[] {
  const keys = [who.deviceId ? counter(deps, 'device', 'device', who.deviceId, who.userId) : counter(deps, 'name', 'account', loginNameKey(who.name), who.userId)];
  if (clientIp)
    keys.push({
      ...counter(deps, 'address', 'address', addressLimitKey(clientIp, deps.throttle.ipv6Prefix), null),
      freeAttempts: deps.throttle.addressFreeAttempts,
      capSeconds: deps.throttle.addressMaxDelaySeconds,
    });
  return keys;
}

/** Attempts to prove the current password of a logged-in user (a password change) count like logins. */
export const passwordCheckKey = (deps: AuthDeps, userId: number): ThrottleKey => counter(deps, 'password', 'password', String(userId), userId);

/** Wrong second-factor codes count like wrong passwords, per account, whichever ticket or session they come with. */
export const secondFactorKey = (deps: AuthDeps, userId: number): ThrottleKey => counter(deps, 'second_factor', 'mfa', String(userId), userId);

/** A counter keyed `<tag>:HMAC(<tag>|<value>)`, with the per-name threshold and cap (the address counter overrides both). */
function counter(deps: AuthDeps, kind: ThrottleKind, tag: string, value: string, userId: number | null): ThrottleKey {
  return { kind, key: `${tag}:${hmac(deps, `${tag}|${value}`)}`, freeAttempts: deps.throttle.freeAttempts, capSeconds: deps.throttle.accountMaxDelaySeconds, userId };
}

interface Row {
  failures: number;
  last_failure_at: Date;
  blocked_until: Date | null;
  pending: number;
  pending_at: Date | null;
}

const WHAT: Record<ThrottleKind, string> = {
  name: 'for this account',
  device: 'for this account from this device',
  address: 'from this address',
  password: 'for your current password',
  second_factor: "for this account's second factor",
};

/**
 * Claim an attempt before its password is checked, atomically (row locks, keys in one order), so a
 * burst of concurrent guesses cannot all slip through before the first failure is recorded: while
 * a key is delayed, or its failures plus the checks in flight reach its free attempts, the attempt
 * is refused with 429 and Retry-After, saying what is throttled and for how long, and nothing is
 * counted. After the free attempts each further failure doubles the delay (1 s, 2 s, 4 s …) up to
 * the key's cap, and once a delay has passed one check at a time may try again.
 */
export async function claimAttempt(deps: AuthDeps, keys: ThrottleKey[]): Promise<Claim> {
  const now = deps.clock();
  const refusal = await withTransaction(deps.pool, async (client) => {
    const rows: Array<[ThrottleKey, Row]> = [];
    for (const k of [...keys].sort((a, b) => a.key.localeCompare(b.key))) {
      await client.query(`INSERT INTO login_throttle (key, failures, last_failure_at, user_id) VALUES ($1, 0, 'epoch', $2) ON CONFLICT (key) DO NOTHING`, [k.key, k.userId]);
      const { rows: found } = await client.query<Row>('SELECT failures, last_failure_at, blocked_until, pending, pending_at FROM login_throttle WHERE key = $1 FOR UPDATE', [
        k.key,
      ]);
      rows.push([k, current(deps, found[0]!, now)]);
    }
    let refused: { kind: ThrottleKind; seconds: number } | undefined;
    for (const [k, r] of rows) {
      const wait =
        r.blocked_until && r.blocked_until > now ? Math.ceil((r.blocked_until.getTime() - now.getTime()) / 1000) : r.pending >= Math.max(k.freeAttempts - r.failures, 1) ? 1 : 0;
      if (wait > (refused?.seconds ?? 0)) refused = { kind: k.kind, seconds: wait };
    }
    if (refused) return refused;
    for (const [k, r] of rows)
      await client.query('UPDATE login_throttle SET failures = $2, pending = $3, pending_at = $4, user_id = COALESCE(user_id, $5) WHERE key = $1', [
        k.key,
        r.failures,
        r.pending + 1,
        now,
        k.userId,
      ]);
    return undefined;
  });
  if (refusal)
    throw new AppError('resource_exhausted', 'auth.throttled', `Too many failed attempts ${WHAT[refusal.kind]}; try again in ${refusal.seconds} s`, undefined, {
      retryAfterSeconds: refusal.seconds,
    });
  // Rows whose window passed long ago are of no use: keep the table small.
  if (Math.random() < 0.01)
    await deps.pool.query('DELETE FROM login_throttle WHERE last_failure_at < $1 AND pending_at < $1 AND (blocked_until IS NULL OR blocked_until < $1)', [
      new Date(now.getTime() - 2 * deps.throttle.windowSeconds * 1000),
    ]);
  return { keys };
}

/** The row as of now: failures outside the window are forgotten, claims older than PENDING_TTL are dropped. */
function current(deps: AuthDeps, r: Row, now: Date): Row {
  const stale = r.last_failure_at.getTime() < now.getTime() - deps.throttle.windowSeconds * 1000;
  const abandoned = !r.pending_at || r.pending_at.getTime() < now.getTime() - PENDING_TTL_SECONDS * 1000;
  return { ...r, failures: stale ? 0 : r.failures, blocked_until: stale ? null : r.blocked_until, pending: abandoned ? 0 : r.pending };
}

/**
 * Settle a claim. A failure counts and may start a delay; a success forgets the failures of the
 * name, device or password counter (not of the address: one good password must not reset a
 * guesser); a neutral outcome (the check could not be made) only frees the slot.
 */
export async function settleAttempt(deps: AuthDeps, claim: Claim, outcome: Outcome): Promise<void> {
  const now = deps.clock();
  await withTransaction(deps.pool, async (client) => {
    for (const k of [...claim.keys].sort((a, b) => a.key.localeCompare(b.key))) {
      const { rows } = await client.query<Row>('SELECT failures, last_failure_at, blocked_until, pending, pending_at FROM login_throttle WHERE key = $1 FOR UPDATE', [k.key]);
      if (!rows[0]) continue;
      const r = current(deps, rows[0], now);
      const pending = Math.max(r.pending - 1, 0);
      if (outcome === 'failure') {
        const failures = r.failures + 1;
        const delay = failures >= k.freeAttempts ? Math.min(k.capSeconds, 2 ** Math.min(failures - k.freeAttempts, 30)) : 0;
        await client.query('UPDATE login_throttle SET failures = $2, last_failure_at = $3, blocked_until = $4, pending = $5 WHERE key = $1', [
          k.key,
          failures,
          now,
          delay ? new Date(now.getTime() + delay * 1000) : r.blocked_until,
          pending,
        ]);
      } else if (outcome === 'success' && k.kind !== 'address') {
        await client.query('UPDATE login_throttle SET failures = 0, blocked_until = NULL, pending = $2 WHERE key = $1', [k.key, pending]);
      } else {
        await client.query('UPDATE login_throttle SET pending = $2 WHERE key = $1', [k.key, pending]);
      }
    }
  });
}

/**
 * Run one password check under the throttle: claim, check, settle by what happened. Only a refused
 * password counts (`isFailure`); a service that could not answer counts nothing.
 */
export async function throttled<T>(deps: AuthDeps, keys: ThrottleKey[], check: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
  const claim = await claimAttempt(deps, keys);
  let result: T;
  try {
    result = await check();
  } catch (err) {
    await settleAttempt(deps, claim, isFailure(err) ? 'failure' : 'neutral');
    throw err;
  }
  await settleAttempt(deps, claim, 'success');
  return result;
}
