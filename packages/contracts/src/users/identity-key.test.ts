import { describe, expect, it } from 'vitest';
import { identityKey } from './identity-key.js';

describe('identityKey', () => {
  it('folds case and compatibility forms, so look-alike spellings of one name meet', () => {
    expect(identityKey('Alice@Example.COM')).toBe('alice@example.com');
    // Fullwidth letters (NFKC) and a precomposed vs combining "é" (NFC part of NFKC).
    expect(identityKey('ＡＬＩＣＥ')).toBe('alice');
    expect(identityKey('Jose\u0301')).toBe(identityKey('JOSÉ'));
    expect(identityKey('ﬁle')).toBe('file');
  });
});
