import { createHash } from 'node:crypto';

/** The SHA-256 digest of a string (as UTF-8) or bytes: how tokens and codes are stored, never in clear. */
export const sha256 = (data: string | Uint8Array): Buffer => createHash('sha256').update(data).digest();
