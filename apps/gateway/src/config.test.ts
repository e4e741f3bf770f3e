import { ConfigError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

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
