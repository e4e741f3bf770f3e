import type { Request } from 'express';

/** The device cookie: proof that this browser or app logged into the account before (see auth-service's devices.ts). */
export const DEVICE_COOKIE = 'um_device';
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/** The device cookie the client sent, if any (no cookie library: one name, one value). */
export function readDeviceCookie(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === DEVICE_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length > 0 && value.length <= 200 ? value : undefined;
    }
  }
  return undefined;
}

/** `Set-Cookie` for a device token: not readable by scripts, never sent cross-site, `Secure` over https. */
export const deviceCookie = (token: string, secure: boolean) =>
  `${DEVICE_COOKIE}=${token}; Path=/; Max-Age=${ONE_YEAR_SECONDS}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
