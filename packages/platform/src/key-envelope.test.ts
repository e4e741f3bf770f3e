import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeKek, kekId, openSecret, sealSecret, SealedSecretError, toKek, type SealedSecret } from './key-envelope.js';

const secret = Buffer.from('{"kty":"OKP","crv":"Ed25519","d":"private-part","x":"public-part"}');

function failure(fn: () => unknown): SealedSecretError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SealedSecretError);
    return err as SealedSecretError;
  }
  throw new Error('expected a SealedSecretError');
}

/** Flip one bit of a base64url field. */
function flip(b64: string, index = 0): string {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64url');
}

describe('key envelope', () => {
  it('round trips: what is sealed opens with the same KEK and associated data', () => {
    const kek = toKek(randomBytes(32));
    const sealed = sealSecret(kek, secret, 'kid-1');
    expect(openSecret({ current: kek }, sealed, 'kid-1')).toEqual(secret);
    expect(sealed).toMatchObject({ v: 1, alg: 'A256GCM', kek: kek.id });
    // nothing of the plaintext is visible in what is stored
    expect(JSON.stringify(sealed)).not.toContain('private-part');
    expect(Buffer.from(sealed.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64url')).toHaveLength(16);
  });

  it('uses a fresh IV each time, so the same secret never seals to the same bytes', () => {
    const kek = toKek(randomBytes(32));
    const a = sealSecret(kek, secret, 'kid-1');
    const b = sealSecret(kek, secret, 'kid-1');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('names the KEK when the one configured is not the one that sealed', () => {
    const kek = toKek(randomBytes(32));
    const other = toKek(randomBytes(32));
    const sealed = sealSecret(kek, secret, 'kid-1');
    const err = failure(() => openSecret({ current: other }, sealed, 'kid-1'));
    expect(err.reason).toBe('unknown_kek');
    expect(err.message).toContain(kek.id);
    expect(err.message).toContain(other.id);
    expect(failure(() => openSecret({}, sealed, 'kid-1')).reason).toBe('no_kek');
  });

  it('opens with the previous KEK while rotating', () => {
    const old = toKek(randomBytes(32));
    const sealed = sealSecret(old, secret, 'kid-1');
    expect(openSecret({ current: toKek(randomBytes(32)), previous: old }, sealed, 'kid-1')).toEqual(secret);
  });

  it('refuses a wrong KEK that claims the right id (the tag does not authenticate)', () => {
    const kek = toKek(randomBytes(32));
    const sealed = sealSecret(kek, secret, 'kid-1');
    const impostor = { id: kek.id, key: randomBytes(32) };
    expect(failure(() => openSecret({ current: impostor }, sealed, 'kid-1')).reason).toBe('corrupt');
  });

  it.each<[string, (s: SealedSecret) => SealedSecret]>([
    ['ciphertext', (s) => ({ ...s, ct: flip(s.ct, 5) })],
    ['tag', (s) => ({ ...s, tag: flip(s.tag) })],
    ['IV', (s) => ({ ...s, iv: flip(s.iv) })],
    ['truncated tag', (s) => ({ ...s, tag: Buffer.from(s.tag, 'base64url').subarray(0, 4).toString('base64url') })],
  ])('refuses a tampered %s', (_label, tamper) => {
    const kek = toKek(randomBytes(32));
    const sealed = sealSecret(kek, secret, 'kid-1');
    expect(failure(() => openSecret({ current: kek }, tamper(sealed), 'kid-1')).reason).toBe('corrupt');
    // the untampered envelope still opens: the change is what was refused
    expect(openSecret({ current: kek }, sealed, 'kid-1')).toEqual(secret);
  });

  it('refuses a secret presented with other associated data (moved to another kid)', () => {
    const kek = toKek(randomBytes(32));
    const sealed = sealSecret(kek, secret, 'kid-1');
    expect(failure(() => openSecret({ current: kek }, sealed, 'kid-2')).reason).toBe('corrupt');
  });

  it.each([null, 'text', { v: 2, alg: 'A256GCM', kek: 'x', iv: 'x', ct: 'x', tag: 'x' }, { kty: 'OKP', d: 'clear' }])('refuses an unknown format %j', (stored) => {
    expect(failure(() => openSecret({ current: toKek(randomBytes(32)) }, stored, 'kid-1')).reason).toBe('format');
  });

  it('decodes a KEK from 64 hex digits or base64 / base64url of exactly 32 bytes', () => {
    const key = randomBytes(32);
    expect(decodeKek(key.toString('hex'))).toEqual(key);
    expect(decodeKek(key.toString('hex').toUpperCase())).toEqual(key);
    expect(decodeKek(key.toString('base64'))).toEqual(key);
    expect(decodeKek(key.toString('base64url'))).toEqual(key);
    expect(decodeKek(` ${key.toString('base64')}\n`)).toEqual(key);
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(31).toString('hex'), randomBytes(33).toString('base64'), 'not a key!', '']) {
      const err = decodeKek(bad);
      expect(typeof err).toBe('string');
      expect(err).toMatch(/exactly 32 bytes/);
    }
  });

  it('KEK ids are stable, short and differ between keys', () => {
    const key = randomBytes(32);
    expect(kekId(key)).toBe(kekId(Buffer.from(key)));
    expect(kekId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(kekId(key)).not.toBe(kekId(randomBytes(32)));
    expect(() => toKek(randomBytes(16))).toThrow(/32 bytes/);
  });
});
