import { describe, expect, it } from 'vitest';
import { sha256 } from './sha256.js';

describe('sha256', () => {
  it('digests text as UTF-8 and bytes as they are (FIPS 180-2 test vector)', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256('abc').toString('hex')).toBe(abc);
    expect(sha256(new Uint8Array([0x61, 0x62, 0x63])).toString('hex')).toBe(abc);
    expect(sha256('é').equals(sha256(Buffer.from('é', 'utf8')))).toBe(true);
  });
});
