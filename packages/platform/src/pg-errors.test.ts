import { describe, expect, it } from 'vitest';
import { violatedUniqueConstraint } from './pg-errors.js';

describe('violatedUniqueConstraint', () => {
  it('names the constraint of a unique violation (SQLSTATE 23505)', () => {
    expect(violatedUniqueConstraint(Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'users_email_key' }))).toBe('users_email_key');
    expect(violatedUniqueConstraint({ code: '23505' })).toBe('');
  });

  it('answers undefined for every other error', () => {
    for (const other of [{ code: '23503', constraint: 'users_email_key' }, new Error('boom'), { code: 23505 }, 'text', null, undefined])
      expect(violatedUniqueConstraint(other)).toBeUndefined();
  });
});
