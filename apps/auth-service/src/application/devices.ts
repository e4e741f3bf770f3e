import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isUserIdString } from '@um/contracts';

/**
 * Device cookies (OWASP "Slow down online guessing attacks with device cookies"): a browser or app
 * that has logged into an account before carries a token naming that account, signed by us. A login
 * presenting one is throttled on its own device counter, not on the name's, so a stranger's
 * failures from elsewhere cannot keep the owner out; the stranger, without such a token, stays
 * throttled on the counter of the name they type.
 */
export interface Device {
  id: string;
  userId: number;
}

const VERSION = 'd1';

const mac = (secret: Buffer, id: string, userId: number) => createHmac('sha256', secret).update(`device|${id}|${userId}`).digest('base64url').slice(0, 32);

/** A new device token for this user (or the same device again, renewed). */
export function issueDeviceToken(secret: Buffer, userId: number, deviceId = randomBytes(16).toString('base64url')): string {
  return `${VERSION}.${deviceId}.${userId}.${mac(secret, deviceId, userId)}`;
}

/** The device a token stands for, if it is one of ours and unaltered; anything else is no device. */
export function readDeviceToken(secret: Buffer, token: string | undefined): Device | undefined {
  const parts = token?.split('.');
  if (!parts || parts.length !== 4 || parts[0] !== VERSION) return undefined;
  const [, id, user, given] = parts as [string, string, string, string];
  // Cookies from before ids were integers named a UUID: no device any more (the next login renews it).
  if (!/^[A-Za-z0-9_-]{22}$/.test(id) || !isUserIdString(user)) return undefined;
  const userId = Number(user);
  const expected = Buffer.from(mac(secret, id, userId));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? { id, userId } : undefined;
}
