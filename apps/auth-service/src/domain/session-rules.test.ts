import { describe, expect, it } from 'vitest';
import { isRecentLogin, mayOpenSession, sessionExpiresAt, sessionsToRefuse } from './session-rules.js';

const now = new Date('2026-01-01T12:00:00Z');
const at = (secondsFromNow: number) => new Date(now.getTime() + secondsFromNow * 1000);

describe('session rules', () => {
  it('a session ends its refresh-token lifetime after it was opened', () => {
    expect(sessionExpiresAt(now, 3600)).toEqual(at(3600));
  });

  it('opens a session only from a password check made at or after the last password change', () => {
    expect(mayOpenSession(new Date(0), now)).toBe(true);
    expect(mayOpenSession(now, now)).toBe(true);
    expect(mayOpenSession(at(1), now)).toBe(false);
  });

  it("refuses the sessions just ended and the caller's own, each once", () => {
    expect(sessionsToRefuse(['a', 'b'], undefined)).toEqual(['a', 'b']);
    expect(sessionsToRefuse([], 'mine')).toEqual(['mine']);
    expect(sessionsToRefuse(['mine'], 'mine')).toEqual(['mine']);
  });

  it('a login counts as recent strictly within the reauthentication window', () => {
    expect(isRecentLogin(at(-599), now, 600)).toBe(true);
    expect(isRecentLogin(at(-600), now, 600)).toBe(false);
  });
});
