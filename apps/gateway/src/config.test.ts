import { ConfigError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { gatewayNatsName, loadConfig } from './config.js';

describe('gateway configuration: personal data settings', () => {
  it('defaults to masked log bodies and the open, full directory the spec describes', () => {
    expect(loadConfig({})).toMatchObject({ LOG_BODIES: 'masked', USER_DIRECTORY: 'all', USER_DIRECTORY_FIELDS: 'full' });
  });

  it('takes the other values', () => {
    expect(loadConfig({ LOG_BODIES: 'off', USER_DIRECTORY: 'admins', USER_DIRECTORY_FIELDS: 'public' })).toMatchObject({
      LOG_BODIES: 'off',
      USER_DIRECTORY: 'admins',
      USER_DIRECTORY_FIELDS: 'public',
    });
    expect(loadConfig({ LOG_BODIES: 'full' }).LOG_BODIES).toBe('full');
  });

  it.each([
    ['LOG_BODIES', 'none'],
    ['USER_DIRECTORY', 'everyone'],
    ['USER_DIRECTORY_FIELDS', 'partial'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe('gateway configuration: which replica it is on NATS', () => {
  it('is plain `gateway` without a replica (an open local server, `npm start`)', () => {
    expect(gatewayNatsName(loadConfig({}))).toBe('gateway');
    expect(gatewayNatsName(loadConfig({ NATS_USER: 'someone', NATS_PASSWORD: 'pw' }))).toBe('gateway');
  });

  it('takes the replica from NATS_USER gateway-<n>, or from GATEWAY_REPLICA (creds, nkeys)', () => {
    expect(gatewayNatsName(loadConfig({ NATS_USER: 'gateway-2', NATS_PASSWORD: 'pw' }))).toBe('gateway-2');
    expect(gatewayNatsName(loadConfig({ GATEWAY_REPLICA: '7' }))).toBe('gateway-7');
    expect(gatewayNatsName(loadConfig({ GATEWAY_REPLICA: '3', NATS_USER: 'gateway-3', NATS_PASSWORD: 'pw' }))).toBe('gateway-3');
  });

  it.each([
    [{ GATEWAY_REPLICA: '2', NATS_USER: 'gateway-1', NATS_PASSWORD: 'pw' }, /GATEWAY_REPLICA: replica 2 connects as NATS user gateway-2, but NATS_USER is gateway-1/],
    [{ GATEWAY_REPLICA: '2', NATS_USER: 'gateway', NATS_PASSWORD: 'pw' }, /GATEWAY_REPLICA/],
    [{ GATEWAY_REPLICA: '0' }, /GATEWAY_REPLICA/],
    [{ GATEWAY_REPLICA: 'two' }, /GATEWAY_REPLICA/],
  ])('refuses a replica that disagrees with its NATS user or is not a number (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('gateway configuration: client timeouts', () => {
  it('defaults to 10 s for headers, 30 s for a whole request, 5 s for an idle keep-alive connection', () => {
    expect(loadConfig({})).toMatchObject({ HTTP_HEADERS_TIMEOUT: 10, HTTP_REQUEST_TIMEOUT: 30, HTTP_KEEP_ALIVE_TIMEOUT: 5 });
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT: '2s', HTTP_REQUEST_TIMEOUT: '1m', HTTP_KEEP_ALIVE_TIMEOUT: '75' })).toMatchObject({
      HTTP_HEADERS_TIMEOUT: 2,
      HTTP_REQUEST_TIMEOUT: 60,
      HTTP_KEEP_ALIVE_TIMEOUT: 75,
    });
  });

  it.each([
    [{ HTTP_HEADERS_TIMEOUT: '0' }, 'HTTP_HEADERS_TIMEOUT'],
    [{ HTTP_REQUEST_TIMEOUT: 'soon' }, 'HTTP_REQUEST_TIMEOUT'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT: '2h' }, 'HTTP_KEEP_ALIVE_TIMEOUT'],
  ])('refuses %o, naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(name));
  });
});
