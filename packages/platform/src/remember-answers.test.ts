import { describe, expect, it } from 'vitest';
import { rememberAnswers } from './remember-answers.js';

describe('rememberAnswers', () => {
  it('asks once per key, remembers undefined answers too, and stops remembering past max keys', () => {
    const asked: string[] = [];
    const f = rememberAnswers((k) => (asked.push(k), k === 'a' ? undefined : k.length), 2);
    expect([f('a'), f('a'), f('bb'), f('bb')]).toEqual([undefined, undefined, 2, 2]);
    expect(asked).toEqual(['a', 'bb']);
    expect([f('ccc'), f('ccc')]).toEqual([3, 3]);
    expect(asked).toEqual(['a', 'bb', 'ccc', 'ccc']);
  });
});
