import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';

/** RFC 6238 as every authenticator app does it: SHA-1, 6 digits, 30 s steps. */
const STEP_SECONDS = 30;
/** Clock skew tolerated between the phone and the server, in steps (±30 s). */
const SKEW_STEPS = 1;

/** A new shared secret: 160 random bits (RFC 4226's recommendation), base32 as apps expect it. */
export const newTotpSecret = (): string => authenticator.generateSecret(20);

/** The `otpauth://` URI an authenticator app reads (from the QR code or typed in). */
export const totpUri = (secret: string, account: string, issuer: string): string => authenticator.keyuri(account, issuer, secret);

/**
 * The time step the code belongs to, if it is the code of the current step or one step either side
 * of it, and later than the last step accepted (each code works once); else undefined.
 */
export function acceptTotp(secret: string, code: string, now: Date, lastStep: number | null): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = authenticator.clone({ epoch: now.getTime(), window: SKEW_STEPS, step: STEP_SECONDS }).checkDelta(code, secret);
  if (delta === null) return undefined;
  const step = Math.floor(now.getTime() / 1000 / STEP_SECONDS) + delta;
  return lastStep !== null && step <= lastStep ? undefined : step;
}

// 32 symbols (no i, l, o, 1: easy to misread), so a byte modulo 32 picks each alike.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz023456789';

/** Ten recovery codes, `xxxxx-xxxxx` (50 random bits each), shown once. */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = [...randomBytes(10)].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** A recovery code as typed, in the form its hash was made from (case, spaces and dashes do not matter). */
export const normaliseRecoveryCode = (code: string): string => code.toLowerCase().replace(/[\s-]/g, '');
