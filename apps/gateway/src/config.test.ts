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
