import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { SmtpSink } from './smtp.js';
import { safeStep, totp } from './totp.js';

let sys: System;
let smtp: SmtpSink;

beforeAll(async () => {
  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({ mail: 1, env: { SMTP_URL: smtpUrl, RELAY_POLL_MS: '200', PUBLIC_URL: 'http://public.example' } });
});
afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
});

describe('logs after a user came and went (LOG_BODIES=masked, the default)', () => {
  it('no process wrote their email, username or fio in clear; the access log still tells what happened', async () => {
    const input = newUser();
    const renamed = { username: `${input.username}_renamed`, fio: `${input.fio} Renamed` };

    const reg = await http(sys.url, 'POST', '/register', { body: input });
    expect(reg.status).toBe(201);
    // a second registration with the same address: a refused duplicate must not leak it either
    expect((await http(sys.url, 'POST', '/register', { body: { ...newUser(), email: input.email } })).status).toBe(409);
    await eventually(async () => smtp.to(input.email).length === 1, 20_000);
    const confirmed = await http(sys.url, 'GET', smtp.to(input.email)[0]!.link!.replace('http://public.example', ''));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toEqual({ status: 'confirmed' });
    expect(confirmed.headers.get('cache-control')).toBe('no-store');

    const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    const me = await http(sys.url, 'GET', '/users/me', { token });
    expect(me.body).toMatchObject({ email: input.email, email_verified: true });
    const byEmail = await http(sys.url, 'GET', `/users/search?email=${encodeURIComponent(input.email)}`, { token });
    const byFio = await http(sys.url, 'GET', `/users/search?fio=${encodeURIComponent(input.fio)}`, { token });
    expect(byEmail.body.map((u: { id: string }) => u.id)).toEqual([reg.body.id]);
    expect(byFio.body.map((u: { id: string }) => u.id)).toEqual([reg.body.id]);
    expect((await http(sys.url, 'PATCH', '/users/me', { token, body: renamed })).status).toBe(200);
    expect((await http(sys.url, 'GET', `/users/${reg.body.id}/history`, { token })).status).toBe(200);
    expect((await http(sys.url, 'DELETE', '/users/me', { token })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 500));

    const output = sys.output;
    for (const personal of [input.email, input.username, input.fio, renamed.username, renamed.fio])
      expect(output.includes(personal), `a process logged ${personal} in clear`).toBe(false);
    // every app wrote something: the check above covered all four
    for (const app of ['gateway', 'users-service', 'auth-service', 'mail-service'])
      expect(
        sys.procs.some((p) => p.app === app && p.output.length > 0),
        app,
      ).toBe(true);

    const gatewayLines = sys.procs.filter((p) => p.app === 'gateway').flatMap((p) => p.logs);
    const lineOf = (method: string, path: string) =>
      gatewayLines.find((l) => (l.req as { method: string; path: string } | undefined)?.method === method && (l.req as { path: string }).path === path);
    const maskedEmail = `${input.email[0]}***@example.com`;
    expect(lineOf('POST', '/register')).toMatchObject({
      res: { status: 201 },
      duration_ms: expect.any(Number),
      request_body: { email: maskedEmail, username: 'e***', fio: 'E***', password: '[REDACTED]' },
    });
    expect(lineOf('GET', `/users/search?email=${encodeURIComponent(maskedEmail)}`)).toMatchObject({ res: { status: 200 }, user_id: reg.body.id });
    expect(lineOf('GET', '/users/search?fio=E***')).toMatchObject({ res: { status: 200 } });
    expect(lineOf('PATCH', '/users/me')).toMatchObject({ res: { status: 200 }, request_body: { username: 'e***', fio: 'E***' } });
    expect(lineOf('DELETE', '/users/me')).toMatchObject({ res: { status: 204 }, duration_ms: expect.any(Number), user_id: reg.body.id });
  });

  it('no process wrote the email (raw or %40-encoded), username, fio or tags of a user who enrolled TOTP, was searched for and mistyped into URLs', async () => {
    // Distinctive values: a match in the output can only be this user's data.
    const mark = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const input = newUser({
      username: `quokka_${mark}`,
      email: `thistle.${mark}@example.com`,
      fio: `Quokka Thistlewood ${mark}`,
      tags: [`narwhal${mark}`, `oboe${mark}`],
    });
    const encodedEmail = encodeURIComponent(input.email);
    const personal = [input.email, encodedEmail, input.username, input.fio, encodeURIComponent(input.fio), ...input.tags];
    const found = (text: string) => personal.filter((p) => text.includes(p));
    // The check can fail: a line that carried any of them would be caught.
    expect(found(JSON.stringify({ msg: `GET /users/${encodedEmail}?name=${encodeURIComponent(input.fio)} 404`, body: input }))).toEqual(personal);

    const reg = await http(sys.url, 'POST', '/register', { body: input });
    expect(reg.status).toBe(201);
    // mail-service has handled this user (asked users-service for the address, sent the email)
    await eventually(async () => smtp.to(input.email).length === 1, 20_000);
    const login = await http(sys.url, 'POST', '/login', { body: { username: input.username, password: input.password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;

    const enrol = await http(sys.url, 'POST', '/users/me/mfa/totp', { token });
    expect(enrol.status).toBe(200);
    expect(enrol.body.qr_code).toMatch(/^data:image\/svg/);
    const confirm = await http(sys.url, 'POST', '/users/me/mfa/totp/confirm', { token, body: { code: totp(enrol.body.secret, await safeStep()) } });
    expect(confirm.status).toBe(200);
    const secrets = [enrol.body.secret as string, enrol.body.otpauth_uri as string, enrol.body.qr_code as string, ...(confirm.body.recovery_codes as string[])];

    const ids = (r: { body: Array<{ id: number }> }) => r.body.map((u) => u.id);
    expect(ids(await http(sys.url, 'GET', `/users/search?email=${encodedEmail}`, { token }))).toEqual([reg.body.id]);
    expect(ids(await http(sys.url, 'GET', `/users/search?tags=${input.tags[0]}`, { token }))).toEqual([reg.body.id]);
    expect(ids(await http(sys.url, 'GET', `/users/search?tags=${input.tags.join(',')}`, { token }))).toEqual([reg.body.id]);

    // mistyped URLs: no route, a parameter that is no id, unknown query keys
    for (const path of [
      `/${input.username}`,
      `/users/${input.username}`,
      `/profiles/${input.email}`,
      `/profiles/${encodedEmail}`,
      `/users/${encodedEmail}/history`,
      `/users/search?whois=${input.username}&contact=${encodedEmail}&about=${input.tags[1]}`,
      `/nowhere?email=${input.email}&name=${encodeURIComponent(input.fio)}`,
    ]) {
      const r = await http(sys.url, 'GET', path, { token });
      expect([200, 404], `${path}: ${r.status}`).toContain(r.status);
    }

    expect((await http(sys.url, 'DELETE', '/users/me', { token })).status).toBe(204);
    // the erasure reaches auth-service (and anything else listening) through the relay
    await new Promise((r) => setTimeout(r, 1500));

    for (const app of ['gateway', 'users-service', 'auth-service', 'mail-service'] as const) {
      const output = sys.procs
        .filter((p) => p.app === app)
        .map((p) => p.output)
        .join('\n');
      expect(output.length, `${app} wrote nothing: the check would prove nothing`).toBeGreaterThan(0);
      expect(found(output), `${app} logged personal data in clear`).toEqual([]);
      expect(
        secrets.filter((x) => output.includes(x)),
        `${app} logged the TOTP secret or recovery codes`,
      ).toEqual([]);
    }
    // the access log still tells what happened, in masked form
    const gateway = sys.procs.filter((p) => p.app === 'gateway').flatMap((p) => p.logs);
    const paths = gateway.map((l) => (l.req as { path?: string } | undefined)?.path);
    expect(paths).toContain('/q***');
    expect(paths).toContain('/p***/t***@example.com');
    expect(paths).toContain(`/users/search?tags=n***`);
  });
});
