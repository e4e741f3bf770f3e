import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { SmtpSink } from './smtp.js';
import { safeStep, totp } from './totp.js';

const ADMIN = { username: 'recovery_admin', email: 'recovery.admin@example.com', password: 'admin-password-recovery' };

let smtp: SmtpSink;
let sys: System;

beforeAll(async () => {
  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({
    mail: 1,
    env: {
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SMTP_URL: smtpUrl,
      RELAY_POLL_MS: '200',
      MAIL_RETRY_BASE_MS: '100',
      MAIL_RETRY_MAX_MS: '400',
      PUBLIC_URL: 'http://public.example',
      // Every request comes from 127.0.0.1: the per-address limit must not end the parity test.
      PASSWORD_RESET_ADDRESS_LIMIT: '100000',
    },
  });
}, 60_000);
afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
});

/** A new account, its address confirmed from the captured email unless `confirmed` is false: reset links go only to a confirmed address. */
async function register(confirmed = true) {
  const input = newUser();
  const res = await http(sys.url, 'POST', '/register', { body: input });
  expect(res.status).toBe(201);
  if (confirmed) {
    await eventually(async () => smtp.to(input.email).some((m) => m.link), 20_000);
    const link = smtp
      .to(input.email)
      .find((m) => m.link)!
      .link!.replace('http://public.example', '');
    expect((await http(sys.url, 'GET', link)).status).toBe(200);
  }
  return { ...input, id: res.body.id as string };
}
const login = (username: string, password: string) => http(sys.url, 'POST', '/login', { body: { username, password } });
const resetMails = (email: string) => smtp.to(email).filter((m) => m.subject === 'Reset your password');
const tokenOf = (text: string) => decodeURIComponent(/\/password\/reset\?token=([\w%-]+)/.exec(text)![1]!);

/** Ask for a link and wait for its mail (the nth reset mail to that address): the token in it. */
async function requestLink(email: string, nth = 1): Promise<string> {
  const res = await http(sys.url, 'POST', '/password/forgot', { body: { email } });
  expect(res.status).toBe(202);
  await eventually(async () => resetMails(email).length >= nth, 20_000);
  return tokenOf(resetMails(email)[nth - 1]!.text);
}

describe('forgotten password', () => {
  it('the whole flow through the captured email: new password works, old sessions are refused, the address is confirmed, a notice is mailed', async () => {
    const u = await register();
    const before = await login(u.username, u.password);
    expect(before.status).toBe(200);
    const token = await requestLink(u.email);
    expect(resetMails(u.email)[0]!.text).toContain('http://public.example/password/reset?token=');

    const newPassword = `new-${u.password}-2`;
    const reset = await http(sys.url, 'POST', '/password/reset', { body: { token, password: newPassword } });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ status: 'reset', sessions_ended: 1 });

    // The old access token on every gateway within 1 s, and the old refresh token at once.
    await eventually(async () => (await http(sys.url, 'GET', '/users/me', { token: before.body.access_token })).status === 401, 1000);
    expect((await http(sys.url, 'POST', '/refresh', { body: { refresh_token: before.body.refresh_token } })).status).toBe(401);
    expect((await login(u.username, u.password)).status).toBe(401);
    const after = await login(u.username, newPassword);
    expect(after.status).toBe(200);
    expect(after.body.user.email_verified).toBe(true);
    await eventually(async () => smtp.to(u.email).some((m) => m.subject === 'Your password was reset'), 20_000);

    // Used, unknown: the same 400.
    const reused = await http(sys.url, 'POST', '/password/reset', { body: { token, password: `${newPassword}-3` } });
    const unknown = await http(sys.url, 'POST', '/password/reset', { body: { token: 'x'.repeat(43), password: `${newPassword}-3` } });
    expect(reused.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect({ ...reused.body, request_id: null }).toEqual({ ...unknown.body, request_id: null });

    // The history has the steps and no secret.
    const history = await http(sys.url, 'GET', `/users/${u.id}/history`, { token: after.body.access_token });
    const types = (history.body as Array<{ type: string }>).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['PasswordResetRequested', 'PasswordReset']));
    expect(JSON.stringify(history.body)).not.toContain(token);
    expect(JSON.stringify(history.body)).not.toContain(newPassword);
  }, 60_000);

  it('an unconfirmed address gets no reset link, only a fresh confirmation link (the same 202)', async () => {
    const u = await register(false);
    await eventually(async () => smtp.to(u.email).length === 1, 20_000);
    expect((await http(sys.url, 'POST', '/password/forgot', { body: { email: u.email } })).status).toBe(202);
    await eventually(async () => smtp.to(u.email).length === 2, 20_000);
    expect(smtp.to(u.email).map((m) => m.subject)).toEqual(['Confirm your email address', 'Confirm your email address']);
    expect(resetMails(u.email)).toEqual([]);
  }, 60_000);

  it('the password policy applies to the new password, and a refused one leaves the link usable', async () => {
    const u = await register();
    const token = await requestLink(u.email);
    const weak = await http(sys.url, 'POST', '/password/reset', { body: { token, password: u.username } });
    expect(weak.status).toBe(422);
    expect(weak.body.errors[0].field).toBe('password');
    expect((await http(sys.url, 'POST', '/password/reset', { body: { token, password: `a-much-better-${u.password}` } })).status).toBe(200);
  }, 60_000);

  it('a new request invalidates the previous link', async () => {
    const u = await register();
    const first = await requestLink(u.email, 1);
    const second = await requestLink(u.email, 2);
    expect(second).not.toBe(first);
    expect((await http(sys.url, 'POST', '/password/reset', { body: { token: first, password: `first-${u.password}` } })).status).toBe(400);
    expect((await http(sys.url, 'POST', '/password/reset', { body: { token: second, password: `second-${u.password}` } })).status).toBe(200);
  }, 60_000);

  it('answers alike for existing and unknown accounts: status, body, and time within 1.5× over 30 tries each', async () => {
    const users = [];
    for (let i = 0; i < 30; i++) users.push(await register(false));
    const known: number[] = [];
    const unknown: number[] = [];
    const bodies = new Set<string>();
    for (let i = 0; i < 30; i++) {
      for (const [email, times] of i % 2
        ? ([
            [users[i]!.email, known],
            [`nobody_${i}_${Date.now()}@example.com`, unknown],
          ] as const)
        : ([
            [`nobody_${i}_${Date.now()}@example.com`, unknown],
            [users[i]!.email, known],
          ] as const)) {
        const res = await http(sys.url, 'POST', '/password/forgot', { body: { email } });
        expect(res.status).toBe(202);
        bodies.add(JSON.stringify(res.body));
        times.push(res.ms);
      }
    }
    expect([...bodies]).toEqual([JSON.stringify({ status: 'accepted' })]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [k, n] = [median(known), median(unknown)];
    expect(Math.max(k, n) / Math.min(k, n), `median known ${k.toFixed(1)} ms, unknown ${n.toFixed(1)} ms`).toBeLessThan(1.5);
  }, 120_000);

  it('is throttled per name as typed (in any case) with Retry-After, and alike for an unknown name; the names of one account do not tell on each other', async () => {
    const u = await register();
    // Counted per name: the username and the email of one account are two counters, so a 429 never
    // tells that they belong together.
    for (const body of [{ email: u.email }, { username: u.username }, { email: u.email.toUpperCase() }, { username: u.username }])
      expect((await http(sys.url, 'POST', '/password/forgot', { body })).status).toBe(202);
    expect((await http(sys.url, 'POST', '/password/forgot', { body: { email: u.email } })).status).toBe(202);
    const refused = await http(sys.url, 'POST', '/password/forgot', { body: { email: u.email } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const ghost = `ghost_${Date.now()}@example.com`;
    for (let i = 0; i < 3; i++) expect((await http(sys.url, 'POST', '/password/forgot', { body: { email: ghost } })).status).toBe(202);
    const ghostRefused = await http(sys.url, 'POST', '/password/forgot', { body: { email: ghost } });
    expect(ghostRefused.status).toBe(429);
    expect(ghostRefused.body.detail).toBe(refused.body.detail.replace(/\d+ s$/, ghostRefused.body.detail.match(/\d+ s$/)[0]));
  }, 60_000);

  it('refuses a body that is not one name', async () => {
    expect((await http(sys.url, 'POST', '/password/forgot', { body: {} })).status).toBe(422);
    expect((await http(sys.url, 'POST', '/password/forgot', { body: { email: 'a@example.com', username: 'a' } })).status).toBe(422);
    expect((await http(sys.url, 'POST', '/password/reset', { body: { token: 'x' } })).status).toBe(422);
  });
});

describe('TOTP second factor', () => {
  async function enrolled() {
    const u = await register();
    const session = await login(u.username, u.password);
    const token = session.body.access_token as string;
    const start = await http(sys.url, 'POST', '/users/me/mfa/totp', { token });
    expect(start.status).toBe(200);
    expect(start.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/.+secret=/);
    expect(start.body.qr_code).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(start.body.qr_code.split(',')[1], 'base64').toString()).toContain('<svg');
    const secret = start.body.secret as string;
    // Confirmed with the previous step's code: 30 s of skew is accepted.
    const step = await safeStep();
    const confirm = await http(sys.url, 'POST', '/users/me/mfa/totp/confirm', { token, body: { code: totp(secret, step - 1) } });
    expect(confirm.status).toBe(200);
    expect(confirm.body.recovery_codes).toHaveLength(10);
    return { u, secret, token, recovery: confirm.body.recovery_codes as string[], confirmedStep: step - 1 };
  }

  async function ticket(u: { username: string; password: string }): Promise<string> {
    const res = await login(u.username, u.password);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('mfa_required');
    expect(res.body.access_token).toBeUndefined();
    return res.body.mfa_ticket as string;
  }
  const second = (t: string, code: string) => http(sys.url, 'POST', '/login/mfa', { body: { ticket: t, code } });

  it('a wrong confirmation code activates nothing', async () => {
    const u = await register();
    const token = (await login(u.username, u.password)).body.access_token as string;
    const start = await http(sys.url, 'POST', '/users/me/mfa/totp', { token });
    const step = await safeStep();
    const wrong = await http(sys.url, 'POST', '/users/me/mfa/totp/confirm', { token, body: { code: totp(start.body.secret, step + 5) } });
    expect(wrong.status).toBe(422);
    expect((await login(u.username, u.password)).status).toBe(200);
  });

  it('login asks for the second factor; codes work once, ±30 s of skew is accepted and more is refused', async () => {
    const { u, secret, confirmedStep } = await enrolled();
    const t = await ticket(u);
    // The code used to confirm cannot be used again.
    expect((await second(t, totp(secret, confirmedStep))).status).toBe(401);
    let step = await safeStep();
    expect((await second(t, totp(secret, step + 2))).status).toBe(401);
    expect((await second(t, totp(secret, step - 2))).status).toBe(401);
    const ok = await second(t, totp(secret, step));
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(u.id);
    expect(ok.headers.get('set-cookie')).toBeTruthy();
    expect((await http(sys.url, 'GET', '/users/me', { token: ok.body.access_token })).status).toBe(200);
    // The ticket is spent.
    step = await safeStep();
    expect((await second(t, totp(secret, step + 1))).status).toBe(401);
    // Replay of the same code with a new ticket: refused; the next step's code (+30 s): accepted.
    const t2 = await ticket(u);
    expect((await second(t2, totp(secret, step))).status).toBe(401);
    expect((await second(t2, totp(secret, step + 1))).status).toBe(200);
  }, 90_000);

  it('a recovery code works once; a ticket is bound to its account', async () => {
    const { u, recovery } = await enrolled();
    const other = await enrolled();
    const t = await ticket(u);
    // Another account's recovery code does nothing for this ticket.
    expect((await second(t, other.recovery[0]!)).status).toBe(401);
    expect((await second(t, recovery[0]!)).status).toBe(200);
    expect((await second(await ticket(u), recovery[0]!)).status).toBe(401);
    expect((await second(await ticket(u), recovery[1]!.toUpperCase())).status).toBe(200);
  }, 90_000);

  it('removing the factor needs a recent login or a code; an admin can reset it; each step is in the history without secrets', async () => {
    const { u, secret, token, recovery } = await enrolled();
    // A fresh login: no code needed.
    expect((await http(sys.url, 'DELETE', '/users/me/mfa/totp', { token })).status).toBe(200);
    expect((await login(u.username, u.password)).status).toBe(200);

    // Enrol again, then an admin resets it.
    const start = await http(sys.url, 'POST', '/users/me/mfa/totp', { token });
    const step = await safeStep();
    expect((await http(sys.url, 'POST', '/users/me/mfa/totp/confirm', { token, body: { code: totp(start.body.secret, step) } })).status).toBe(200);
    const admin = await login(ADMIN.username, ADMIN.password);
    expect((await http(sys.url, 'DELETE', `/users/${u.id}/mfa/totp`, { token })).status).toBe(403);
    expect((await http(sys.url, 'DELETE', `/users/${u.id}/mfa/totp`, { token: admin.body.access_token })).status).toBe(200);
    expect((await login(u.username, u.password)).status).toBe(200);

    const history = await http(sys.url, 'GET', `/users/${u.id}/history`, { token: admin.body.access_token });
    const mfa = (history.body as Array<{ type: string; actor_id: string | null }>).filter((e) => e.type.startsWith('Mfa'));
    expect(mfa.map((e) => e.type)).toEqual(['MfaDisabled', 'MfaEnabled', 'MfaDisabled', 'MfaEnabled']);
    expect(mfa[0]!.actor_id).toBe(admin.body.user.id);
    const text = JSON.stringify(history.body);
    for (const s of [secret, start.body.secret, ...recovery]) expect(text).not.toContain(s);
  }, 90_000);

  it('wrong codes are refused without a session; removing the factor with a wrong code is refused, with a current one allowed', async () => {
    const { u, secret } = await enrolled();
    const t = await ticket(u);
    for (const code of ['000000', 'zzzzz-zzzzz']) expect((await second(t, code)).status).toBe(401);
    const step = await safeStep();
    const ok = await second(t, totp(secret, step));
    expect(ok.status).toBe(200);
    // A wrong code refuses the removal; a current one allows it.
    const next = await safeStep();
    expect((await http(sys.url, 'DELETE', '/users/me/mfa/totp', { token: ok.body.access_token, body: { code: totp(secret, next + 3) } })).status).toBe(401);
    expect((await http(sys.url, 'DELETE', '/users/me/mfa/totp', { token: ok.body.access_token, body: { code: totp(secret, next + 1) } })).status).toBe(200);
  }, 90_000);
});
