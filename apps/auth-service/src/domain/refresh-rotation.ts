/**
 * The rules of refresh-token rotation (RFC 9700), without a database: what presenting a refresh
 * token means, given the token, its session and the time. The caller reads the rows, acts on the
 * decision and passes `now` in.
 */

/** A refresh token as the rules see it. */
export interface RefreshTokenState {
  /** When it was rotated (spent); null while it is the session's live token. */
  spent_at: Date | null;
  expires_at: Date;
  /** Whether the spent token carries its successor (sealed under it). */
  has_successor: boolean;
}

/** A presented refresh token with its session. */
export interface PresentedToken extends RefreshTokenState {
  session_revoked_at: Date | null;
  session_expires_at: Date;
  session_created_at: Date;
}

export type RefreshDecision =
  /** Refused; the session stays as it is. */
  | { kind: 'refuse'; reason: 'unknown or revoked' | 'expired' }
  /** The session is older than the user's last password reset: it ends, as the reset meant. */
  | { kind: 'end_session'; reason: 'password_reset' }
  /** Spent before: follow its successors to the live token (`successorStep`), or it is reuse. */
  | { kind: 'reused' }
  /** The live token: spend it and hand out a new one. */
  | { kind: 'rotate' };

/**
 * What presenting this refresh token means now. A password reset ends every older session, even
 * when ending them right away was interrupted.
 */
export function refreshDecision(token: PresentedToken | undefined, passwordResetAt: Date | undefined, now: Date): RefreshDecision {
  if (!token || token.session_revoked_at) return { kind: 'refuse', reason: 'unknown or revoked' };
  if (token.session_expires_at <= now) return { kind: 'refuse', reason: 'expired' };
  if (passwordResetAt && token.session_created_at <= passwordResetAt) return { kind: 'end_session', reason: 'password_reset' };
  if (token.spent_at) return { kind: 'reused' };
  if (token.expires_at <= now) return { kind: 'refuse', reason: 'expired' };
  return { kind: 'rotate' };
}

/** Longest chain of rotations followed from one spent token (each hop within the reuse interval). */
export const MAX_SUCCESSOR_HOPS = 20;

/**
 * One hop from a spent token towards the session's live token. `live`: this token is the live one
 * (not spent, not expired). `follow`: it was spent within the reuse interval (two tabs refreshing at
 * once) and names its successor: go on to that. `reuse`: anything else, which is RFC 9700 reuse and
 * ends the whole session. A reuse interval of 0 makes every spent token reuse.
 */
export function successorStep(token: RefreshTokenState, now: Date, reuseIntervalSeconds: number): 'live' | 'follow' | 'reuse' {
  if (!token.spent_at) return token.expires_at > now ? 'live' : 'reuse';
  if (now.getTime() - token.spent_at.getTime() > reuseIntervalSeconds * 1000 || !token.has_successor) return 'reuse';
  return 'follow';
}
