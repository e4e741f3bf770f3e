import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from './config.js';
import { sha256 } from './sha256.js';
import { z } from 'zod';

/**
 * Envelope encryption of server secrets at rest (signing keys, and any other secret kept in the
 * auth schema): AES-256-GCM under a key-encryption key (KEK) that lives only in the environment.
 * The caller's associated data (e.g. the row's key id) is authenticated, so a sealed secret copied
 * into another row does not open there.
 */

const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALG = 'A256GCM';

/** A sealed secret as stored: format version, KEK id, IV, ciphertext and tag (base64url). */
export const SealedSecret = z.object({
  v: z.literal(1),
  alg: z.literal(ALG),
  /** Which KEK sealed it (see `kekId`), so a wrong KEK is named instead of failing as "corrupt". */
  kek: z.string().min(1),
  iv: z.string().min(1),
  ct: z.string(),
  tag: z.string().min(1),
});
export type SealedSecret = z.infer<typeof SealedSecret>;

/** A key-encryption key and its public id. */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/** The KEK that seals (`current`) and an older one still accepted for opening while rotating (`previous`). */
export interface KeyRing {
  readonly current?: Kek;
  readonly previous?: Kek;
}

/** Why a sealed secret could not be opened; the message says what to set, never any key material. */
export class SealedSecretError extends ConfigError {
  constructor(
    readonly reason: 'unknown_kek' | 'no_kek' | 'corrupt' | 'format',
    message: string,
  ) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

/** The id stored beside every secret a KEK sealed: the first 8 bytes of its SHA-256, in hex. Reveals nothing usable. */
export const kekId = (key: Uint8Array): string => sha256(key).toString('hex').slice(0, 16);

export function toKek(key: Buffer): Kek {
  if (key.length !== KEK_BYTES) throw new RangeError(`a KEK must be exactly ${KEK_BYTES} bytes`);
  return { id: kekId(key), key };
}

/**
 * Decode a KEK from its text form: 64 hex digits or base64/base64url of 32 bytes.
 * Returns an error sentence instead of throwing, for config validation.
 */
export function decodeKek(text: string): Buffer | string {
  const s = text.trim();
  const format = `must be exactly ${KEK_BYTES} bytes as base64 (44 characters) or hex (64 characters), e.g. from \`openssl rand -base64 32\``;
  let bytes: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(s)) bytes = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) bytes = Buffer.from(s, 'base64');
  else return `${format}; it is neither`;
  return bytes.length === KEK_BYTES ? bytes : `${format}; it decodes to ${bytes.length} bytes`;
}

/** Seal `plaintext` under `kek`, binding `aad`. A fresh random 96-bit IV every time. */
export function sealSecret(kek: Kek, plaintext: Uint8Array, aad: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { v: 1, alg: ALG, kek: kek.id, iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}

/** Open a sealed secret with whichever KEK of the ring sealed it; throws SealedSecretError naming the problem. */
export function openSecret(ring: KeyRing, stored: unknown, aad: string): Buffer {
  const parsed = SealedSecret.safeParse(stored);
  if (!parsed.success) throw new SealedSecretError('format', 'a sealed secret has an unknown format (a newer version wrote it?)');
  const sealed = parsed.data;
  const keks = [ring.current, ring.previous].filter((k): k is Kek => k !== undefined);
  if (!keks.length) throw new SealedSecretError('no_kek', `a secret is encrypted under KEK ${sealed.kek}, but no KEK is configured`);
  const kek = keks.find((k) => k.id === sealed.kek);
  if (!kek) throw new SealedSecretError('unknown_kek', `a secret is encrypted under KEK ${sealed.kek}, but the configured KEK is ${keks.map((k) => k.id).join(' / ')}`);
  try {
    const iv = Buffer.from(sealed.iv, 'base64url');
    if (iv.length !== IV_BYTES) throw new Error('bad IV length');
    // A full 16-byte tag only: Node would otherwise accept a truncated one, weakening the check.
    const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64url')), decipher.final()]);
  } catch {
    throw new SealedSecretError('corrupt', `a secret sealed under KEK ${sealed.kek} does not authenticate: it was altered, moved to another row, or the KEK is wrong`);
  }
}
