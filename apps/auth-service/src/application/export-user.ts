import type { Pool } from '@um/platform';

/** Everything auth-service holds about one user, readable (the right of access): facts, never a token, a hash or a key. */
export interface AuthServiceData {
  /** Every session (one login and its refreshes) still stored, newest first. */
  sessions: Array<{
    id: string;
    created_at: string;
    last_used_at: string;
    expires_at: string;
    revoked_at: string | null;
    revoked_reason: string | null;
    active: boolean;
  }>;
  /** Sessions may only be opened from a password check after this instant (the last password change). */
  sessions_valid_after: string | null;
  /** Failed-attempt counters kept for the account (their keys are HMACs: only the kind is shown). */
  login_throttle: Array<{ kind: string; failures: number; last_failure_at: string; blocked_until: string | null }>;
  /** Second-step tickets of logins waiting for a code. */
  mfa_tickets: Array<{ verified_at: string; expires_at: string; used_at: string | null }>;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** What this service holds about a user, for an export of their data. */
export async function exportUserData(pool: Pool, userId: string, now = new Date()): Promise<AuthServiceData> {
  const [sessions, security, throttle, tickets] = await Promise.all([
    pool.query<{ id: string; created_at: Date; last_used_at: Date; expires_at: Date; revoked_at: Date | null; revoked_reason: string | null }>(
      'SELECT id, created_at, last_used_at, expires_at, revoked_at, revoked_reason FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [userId],
    ),
    pool.query<{ sessions_valid_after: Date }>('SELECT sessions_valid_after FROM user_security WHERE user_id = $1', [userId]),
    pool.query<{ key: string; failures: number; last_failure_at: Date; blocked_until: Date | null }>(
      'SELECT key, failures, last_failure_at, blocked_until FROM login_throttle WHERE user_id = $1 ORDER BY key',
      [userId],
    ),
    pool.query<{ verified_at: Date; expires_at: Date; used_at: Date | null }>('SELECT verified_at, expires_at, used_at FROM mfa_tickets WHERE user_id = $1 ORDER BY verified_at', [
      userId,
    ]),
  ]);
  return {
    sessions: sessions.rows.map((s) => ({
      id: s.id,
      created_at: s.created_at.toISOString(),
      last_used_at: s.last_used_at.toISOString(),
      expires_at: s.expires_at.toISOString(),
      revoked_at: iso(s.revoked_at),
      revoked_reason: s.revoked_reason,
      active: !s.revoked_at && s.expires_at > now,
    })),
    sessions_valid_after: iso(security.rows[0]?.sessions_valid_after ?? null),
    login_throttle: throttle.rows.map((t) => ({
      kind: t.key.split(':')[0]!,
      failures: t.failures,
      last_failure_at: t.last_failure_at.toISOString(),
      blocked_until: iso(t.blocked_until),
    })),
    mfa_tickets: tickets.rows.map((t) => ({ verified_at: t.verified_at.toISOString(), expires_at: t.expires_at.toISOString(), used_at: iso(t.used_at) })),
  };
}
