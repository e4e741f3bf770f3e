import { Username } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { usernameBase, usernameCandidates } from './derived-username.js';

describe('usernames derived from an email (spec 001 and 004 clients send none)', () => {
  it.each([
    ['Roman.Y+1@x.org', 'roman.y_1'],
    ['al@example.com', 'al_user'],
    ['a@example.com', 'a_user'],
    ['Иван.Петров@example.ru', 'иван.петров'],
    ['john doe!@example.com', 'john_doe_'],
    [`${'x'.repeat(40)}@example.com`, 'x'.repeat(30)],
    ['раураl@example.com', 'user_1'],
  ])('%s → %s', (email, base) => {
    expect(usernameBase(email)).toBe(base);
    expect(Username.safeParse(base).success).toBe(true);
  });

  it('then tries _2 … _20, each a valid username within 36 characters', () => {
    const candidates = usernameCandidates(`${'y'.repeat(40)}@example.com`);
    expect(candidates).toHaveLength(20);
    expect(candidates[1]).toBe(`${'y'.repeat(30)}_2`);
    for (const c of candidates) expect(Username.safeParse(c).success, c).toBe(true);
    expect(new Set(candidates).size).toBe(20);
  });
});
