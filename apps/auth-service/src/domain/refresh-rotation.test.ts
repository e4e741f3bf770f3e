import { describe, expect, it } from 'vitest';
import { refreshDecision, successorStep, type PresentedToken } from './refresh-rotation.js';

const now = new Date('2026-01-01T12:00:00Z');
const at = (secondsFromNow: number) => new Date(now.getTime() + secondsFromNow * 1000);

/** A live token of a live session opened an hour ago. */
const live = (o: Partial<PresentedToken> = {}): PresentedToken => ({
  spent_at: null,
  expires_at: at(3600),
  has_successor: false,
  session_revoked_at: null,
  session_expires_at: at(3600),
  session_created_at: at(-3600),
  ...o,
});

describe('what presenting a refresh token means', () => {
  it('rotates the live token of a live session', () => {
    expect(refreshDecision(live(), undefined, now)).toEqual({ kind: 'rotate' });
  });

  it('refuses an unknown token, or one of an ended session, even when it is spent', () => {
    expect(refreshDecision(undefined, undefined, now)).toEqual({ kind: 'refuse', reason: 'unknown or revoked' });
    expect(refreshDecision(live({ session_revoked_at: at(-1), spent_at: at(-1) }), undefined, now)).toEqual({ kind: 'refuse', reason: 'unknown or revoked' });
  });

  it('refuses once the session has expired (at its expiry instant already), before looking at reuse', () => {
    expect(refreshDecision(live({ session_expires_at: now }), undefined, now)).toEqual({ kind: 'refuse', reason: 'expired' });
    expect(refreshDecision(live({ session_expires_at: at(-1), spent_at: at(-100) }), undefined, now)).toEqual({ kind: 'refuse', reason: 'expired' });
  });

  it('refuses an expired live token of a live session', () => {
    expect(refreshDecision(live({ expires_at: now }), undefined, now)).toEqual({ kind: 'refuse', reason: 'expired' });
  });

  it('ends a session opened before (or at) the last password reset, but not one opened after it', () => {
    expect(refreshDecision(live(), at(-60), now)).toEqual({ kind: 'end_session', reason: 'password_reset' });
    expect(refreshDecision(live({ session_created_at: at(-60) }), at(-60), now)).toEqual({ kind: 'end_session', reason: 'password_reset' });
    expect(refreshDecision(live(), at(-7200), now)).toEqual({ kind: 'rotate' });
  });

  it('a spent token is reuse to be checked against its successors, even when the token itself has expired', () => {
    expect(refreshDecision(live({ spent_at: at(-5) }), undefined, now)).toEqual({ kind: 'reused' });
    expect(refreshDecision(live({ spent_at: at(-5), expires_at: at(-1) }), undefined, now)).toEqual({ kind: 'reused' });
  });
});

describe('following a spent token to the live one', () => {
  const interval = 10;

  it('a token spent within the reuse interval leads on to its successor', () => {
    expect(successorStep({ spent_at: at(-10), expires_at: at(60), has_successor: true }, now, interval)).toBe('follow');
  });

  it('a token spent longer ago than the interval is reuse', () => {
    expect(successorStep({ spent_at: new Date(now.getTime() - 10_001), expires_at: at(60), has_successor: true }, now, interval)).toBe('reuse');
  });

  it('with the interval at 0, a token spent even a millisecond ago is reuse', () => {
    expect(successorStep({ spent_at: now, expires_at: at(60), has_successor: true }, now, 0)).toBe('follow');
    expect(successorStep({ spent_at: new Date(now.getTime() - 1), expires_at: at(60), has_successor: true }, now, 0)).toBe('reuse');
  });

  it('a spent token without its successor is reuse', () => {
    expect(successorStep({ spent_at: at(-1), expires_at: at(60), has_successor: false }, now, interval)).toBe('reuse');
  });

  it('an unspent token is the live one while it has not expired', () => {
    expect(successorStep({ spent_at: null, expires_at: at(1), has_successor: false }, now, interval)).toBe('live');
    expect(successorStep({ spent_at: null, expires_at: now, has_successor: false }, now, interval)).toBe('reuse');
  });
});
