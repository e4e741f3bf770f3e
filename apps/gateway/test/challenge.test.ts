import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requester, signToken, startGateway, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startGateway();
});
afterAll(() => h?.close());
const { send } = requester(() => h);

describe('WWW-Authenticate challenges (RFC 6750 §3.1)', () => {
  it('is bare when no token was presented or another scheme was used', async () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      const a = await send('/users', authorization ? { headers: { authorization } } : {});
      expect(a.status).toBe(401);
      expect(a.headers.get('www-authenticate')).toBe('Bearer realm="user-management"');
    }
  });

  it('says invalid_token when a presented token is refused', async () => {
    const t = Math.floor(Date.now() / 1000);
    const expired = await signToken(h.key, { exp: t - 60, iat: t - 120 });
    // validly signed, but never issued by this system: issued tomorrow, or living a century
    const fromTomorrow = await signToken(h.key, { iat: t + 86_400, exp: t + 86_400 + 900 });
    const century = await signToken(h.key, { iat: t, exp: t + 100 * 365 * 86_400 });
    for (const token of ['not.a.token', expired, fromTomorrow, century]) {
      const a = await send('/users', { token });
      expect(a.status).toBe(401);
      expect(a.headers.get('www-authenticate')).toMatch(/^Bearer realm="user-management", error="invalid_token", error_description="[^"\\]+"$/);
    }
  });
});
