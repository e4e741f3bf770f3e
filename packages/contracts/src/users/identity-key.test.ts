import { describe, expect, it } from 'vitest';
import { identityKey, loginNameKey } from './identity-key.js';

describe('identityKey', () => {
  it('folds case and compatibility forms, so look-alike spellings of one name meet', () => {
    expect(identityKey('Alice@Example.COM')).toBe('alice@example.com');
    // Fullwidth letters (NFKC) and a precomposed vs combining "é" (NFC part of NFKC).
    expect(identityKey('ＡＬＩＣＥ')).toBe('alice');
    expect(identityKey('Jose\u0301')).toBe(identityKey('JOSÉ'));
    expect(identityKey('ﬁle')).toBe('file');
  });
});

describe('loginNameKey', () => {
  it('is the name as typed, trimmed and by its identity key, whether or not an account has it', () => {
    expect(loginNameKey(' Alice_1 ')).toBe('name:alice_1');
    expect(loginNameKey('ALICE@example.com')).toBe(loginNameKey('alice@EXAMPLE.com'));
    // A username and an email are two names, even of one account.
    expect(loginNameKey('alice_1')).not.toBe(loginNameKey('alice@example.com'));
  });
});
