import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets, SECRET_KEY } from './logger.js';

const SECRET = 'hunter2-s3cr3t';

/** A pino destination that keeps every line, parsed. */
function capture() {
  const raw: string[] = [];
  return {
    stream: { write: (line: string) => void raw.push(line) },
    raw,
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('redactSecrets', () => {
  const secretKeys = [
    'password',
    'new_password',
    'access_token',
    'refresh_token',
    'token',
    'authorization',
    'cookie',
    'password_hash',
    'ticket',
    'mfa_ticket',
    'recovery_codes',
    'otpauth_uri',
    'secret',
    'qr_code',
  ];

  it('keeps problem codes (`code` is an error kind in every reply)', () => {
    expect(redactSecrets({ code: 'mfa_required', status_code: 401 })).toEqual({ code: 'mfa_required', status_code: 401 });
  });

  it.each(secretKeys)('redacts %s at the top level', (key) => {
    expect(redactSecrets({ [key]: SECRET, other: 'kept' })).toEqual({ [key]: '[REDACTED]', other: 'kept' });
  });

  it.each(secretKeys)('redacts %s nested and inside arrays', (key) => {
    const input = {
      body: { user: { profile: { [key]: SECRET, username: 'alice' } } },
      list: [{ [key]: SECRET }, [{ [key]: SECRET }], 'plain'],
    };
    expect(redactSecrets(input)).toEqual({
      body: { user: { profile: { [key]: '[REDACTED]', username: 'alice' } } },
      list: [{ [key]: '[REDACTED]' }, [{ [key]: '[REDACTED]' }], 'plain'],
    });
  });

  it('matches keys case-insensitively and with "-" separators', () => {
    expect(redactSecrets({ Authorization: SECRET, Cookie: SECRET, 'set-cookie': SECRET, 'X-Auth-Token': SECRET, PASSWORD: SECRET })).toEqual({
      Authorization: '[REDACTED]',
      Cookie: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      'X-Auth-Token': '[REDACTED]',
      PASSWORD: '[REDACTED]',
    });
  });

  it('redacts a secret key whose value is an object or array as a whole', () => {
    expect(redactSecrets({ token: { value: SECRET }, cookie: [SECRET] })).toEqual({ token: '[REDACTED]', cookie: '[REDACTED]' });
  });

  it('keeps harmless keys that merely contain a secret word', () => {
    const input = { token_type: 'Bearer', expires_in: 900, username: 'alice', password_changed: true, tokens_issued: 3, email: 'a@example.com' };
    expect(redactSecrets(input)).toEqual(input);
  });

  it('redacts a login reply but keeps its metadata', () => {
    expect(redactSecrets({ access_token: 'eyJ.x.y', refresh_token: 'r', token_type: 'Bearer', expires_in: 900 })).toEqual({
      access_token: '[REDACTED]',
      refresh_token: '[REDACTED]',
      token_type: 'Bearer',
      expires_in: 900,
    });
  });

  it('does not change its input', () => {
    const input = { password: SECRET, nested: { token: SECRET } };
    redactSecrets(input);
    expect(input).toEqual({ password: SECRET, nested: { token: SECRET } });
  });

  it('passes scalars through', () => {
    expect(redactSecrets(5)).toBe(5);
    expect(redactSecrets(null)).toBe(null);
    expect(redactSecrets(undefined)).toBe(undefined);
    expect(redactSecrets(true)).toBe(true);
    expect(redactSecrets('short')).toBe('short');
  });

  it('keeps strings up to 2000 characters and cuts longer ones', () => {
    expect(redactSecrets('x'.repeat(2000))).toBe('x'.repeat(2000));
    expect(redactSecrets('x'.repeat(2001))).toBe(`${'x'.repeat(2000)}…[2001 chars]`);
    const out = redactSecrets({ note: 'y'.repeat(10_000) }) as { note: string };
    expect(out.note).toBe(`${'y'.repeat(2000)}…[10000 chars]`);
  });

  it('keeps 50 array items and summarises the rest', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => i);
    expect(redactSecrets(fifty)).toEqual(fifty);
    expect(redactSecrets([...fifty, 50, 51])).toEqual([...fifty, '…[52 items]']);
  });

  it('never lets a secret through however deep it is nested', () => {
    let deep: Record<string, unknown> = { password: SECRET, note: SECRET };
    for (let i = 0; i < 12; i++) deep = { level: deep, [`k${i}`]: 'v' };
    const out = JSON.stringify(redactSecrets(deep));
    expect(out).not.toContain(SECRET);
    expect(out).toContain('[depth]');
  });

  it('SECRET_KEY recognises the usual names', () => {
    for (const k of [...secretKeys, 'api_key', 'apikey', 'private_key', 'client_secret', 'jwt', 'passwd']) expect({ k, match: SECRET_KEY.test(k) }).toEqual({ k, match: true });
    for (const k of ['token_type', 'expires_in', 'username', 'user_id', 'email', 'hashtag', 'passwords_count'])
      expect({ k, match: SECRET_KEY.test(k) }).toEqual({ k, match: false });
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the service name, level filter and ISO time', () => {
    const out = capture();
    const log = createLogger('svc-test', 'warn', {}, out.stream);
    log.info('not written');
    log.warn({ user_id: 'u1' }, 'written');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: 'svc-test', msg: 'written', user_id: 'u1', level: 40 });
    expect(String(lines[0]!.time)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('never writes a password or token value, at the top level or one level down', () => {
    const out = capture();
    const log = createLogger('svc-test', 'info', {}, out.stream);
    log.info({ password: SECRET }, 'top');
    log.info({ body: { password: SECRET, username: 'alice' } }, 'nested');
    log.info({ new_password: SECRET, password_hash: SECRET }, 'variants');
    log.info({ user: { new_password: SECRET, password_hash: SECRET } }, 'nested variants');
    log.info({ token: SECRET, access_token: SECRET, refresh_token: SECRET, token_type: 'Bearer', expires_in: 900 }, 'tokens');
    log.info({ reply: { token: SECRET, access_token: SECRET, refresh_token: SECRET } }, 'nested tokens');
    log.info({ req: { headers: { authorization: `Bearer ${SECRET}`, cookie: `sid=${SECRET}` } } }, 'http');
    log.info({ headers: { authorization: `Bearer ${SECRET}` } }, 'headers');
    const child = log.child({ request_id: 'r1' });
    child.info({ password: SECRET }, 'child');

    expect(out.raw).toHaveLength(9);
    for (const line of out.raw) expect(line).not.toContain(SECRET);
    const [top, nested, variants, , tokens, , http] = out.lines();
    expect(top!.password).toBe('[REDACTED]');
    // (and the username is masked as personal data, see personal-data.test.ts)
    expect(nested!.body).toEqual({ password: '[REDACTED]', username: 'a***' });
    expect(variants).toMatchObject({ new_password: '[REDACTED]', password_hash: '[REDACTED]' });
    expect(tokens).toMatchObject({ token: '[REDACTED]', access_token: '[REDACTED]', refresh_token: '[REDACTED]', token_type: 'Bearer', expires_in: 900 });
    expect(http!.req).toEqual({ headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' } });
  });

  it('with redactSecrets, nothing deeper leaks either', () => {
    const out = capture();
    const log = createLogger('svc-test', 'info', {}, out.stream);
    log.info({ request_body: redactSecrets({ a: { b: { c: { password: SECRET }, list: [{ token: SECRET }] } } }) }, 'deep');
    expect(out.raw).toHaveLength(1);
    expect(out.raw[0]).not.toContain(SECRET);
    expect(out.lines()[0]!.request_body).toEqual({ a: { b: { c: { password: '[REDACTED]' }, list: [{ token: '[REDACTED]' }] } } });
  });

  it('lets extra pino options through', () => {
    const out = capture();
    const log = createLogger('svc-test', 'info', { base: { service: 'overridden', pid: 1 } }, out.stream);
    log.info('x');
    expect(out.lines()[0]).toMatchObject({ service: 'overridden', pid: 1 });
  });
});

describe('camelCase and header-style secret keys', () => {
  it('are redacted like snake_case ones', async () => {
    const { redactSecrets: redact } = await import('./logger.js');
    expect(redact({ accessToken: 'a', newPassword: 'b', 'x-api-key': 'c', apiKey: 'd', tokenType: 'bearer' })).toEqual({
      accessToken: '[REDACTED]',
      newPassword: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      apiKey: '[REDACTED]',
      tokenType: 'bearer',
    });
  });
});
