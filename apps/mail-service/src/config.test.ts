import { ConfigError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('mail-service configuration', () => {
  it('defaults to writing mail to the log', () => {
    const config = loadConfig({});
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.MAIL_FROM).toMatch(/@/);
  });

  it('accepts smtp and smtps URLs and refuses anything else, naming the variable', () => {
    expect(loadConfig({ SMTP_URL: 'smtp://u:p@mail:587' }).SMTP_URL).toBe('smtp://u:p@mail:587');
    expect(loadConfig({ SMTP_URL: 'smtps://mail:465' }).SMTP_URL).toBe('smtps://mail:465');
    expect(() => loadConfig({ SMTP_URL: 'http://mail' })).toThrow(ConfigError);
    expect(() => loadConfig({ SMTP_URL: 'http://mail' })).toThrow(/SMTP_URL/);
  });
});
