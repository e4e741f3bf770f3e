import { eventually } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { SmtpSink } from './smtp.js';

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
});
