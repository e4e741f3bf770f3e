import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AccessTokenTtl, BaseEnv, ConfigError, DatabaseEnv, DurationSeconds, Ipv6Prefix, optionalEnv, parseConfig, SchemaName } from './config.js';

/** The ConfigError thrown for `env`; fails the test when parsing succeeds or throws something else. */
function configError(schema: Parameters<typeof parseConfig>[0], env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(schema, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(parseConfig(BaseEnv, {})).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: undefined,
      LOG_LEVEL: 'info',
      RPC_TIMEOUT_MS: 10_000,
      RPC_ATTEMPTS: 3,
      RPC_UNAVAILABLE_RETRY_MS: 2_000,
      HEALTH_PORT: undefined,
      JETSTREAM_REPLICAS: 1,
    });
  });

  it('parses given values, coercing numbers and treating empty optional values as unset', () => {
    const c = parseConfig(BaseEnv, {
      NATS_URL: 'nats://n:4222',
      NATS_NAMESPACE: 'team_1',
      LOG_LEVEL: 'debug',
      RPC_TIMEOUT_MS: '2500',
      HEALTH_PORT: '8081',
      JETSTREAM_REPLICAS: '3',
    });
    expect(c).toEqual({
      NATS_URL: 'nats://n:4222',
      NATS_NAMESPACE: 'team_1',
      LOG_LEVEL: 'debug',
      RPC_TIMEOUT_MS: 2500,
      RPC_ATTEMPTS: 3,
      RPC_UNAVAILABLE_RETRY_MS: 2_000,
      HEALTH_PORT: 8081,
      JETSTREAM_REPLICAS: 3,
    });
    expect(parseConfig(BaseEnv, { NATS_NAMESPACE: '', HEALTH_PORT: '' })).toMatchObject({ NATS_NAMESPACE: undefined, HEALTH_PORT: undefined });
  });

  it('ignores unrelated variables', () => {
    expect(parseConfig(BaseEnv, { PATH: '/usr/bin', HOME: '/root' })).not.toHaveProperty('PATH');
  });

  it.each([
    ['NATS_NAMESPACE', 'bad.ns'],
    ['NATS_NAMESPACE', 'x'.repeat(33)],
    ['RPC_TIMEOUT_MS', 'abc'],
    ['RPC_TIMEOUT_MS', '99'],
    ['RPC_TIMEOUT_MS', '120001'],
    ['RPC_TIMEOUT_MS', '1.5e3x'],
    ['LOG_LEVEL', 'loud'],
    ['HEALTH_PORT', '70000'],
    ['HEALTH_PORT', '0'],
    ['HEALTH_PORT', 'http'],
    ['NATS_URL', ''],
    ['JETSTREAM_REPLICAS', '0'],
    ['JETSTREAM_REPLICAS', '6'],
    ['JETSTREAM_REPLICAS', 'three'],
  ])('throws a ConfigError naming %s for %j', (name, bad) => {
    const err = configError(BaseEnv, { [name]: bad });
    expect(err.message).toMatch(/^Invalid configuration:/);
    expect(err.message).toContain(`  ${name}: `);
    // only the bad variable is named
    const named = err.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(':')[0]);
    expect(named).toEqual([name]);
  });

  it('names every bad variable at once', () => {
    const err = configError(BaseEnv, { NATS_NAMESPACE: 'bad.ns', RPC_TIMEOUT_MS: 'abc', LOG_LEVEL: 'loud' });
    expect(err.message).toContain('NATS_NAMESPACE');
    expect(err.message).toContain('RPC_TIMEOUT_MS');
    expect(err.message).toContain('LOG_LEVEL');
    expect(err.message.split('\n')).toHaveLength(4);
  });

  it('returns a frozen object', () => {
    const c = parseConfig(BaseEnv, { RPC_TIMEOUT_MS: '500' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { RPC_TIMEOUT_MS: number }).RPC_TIMEOUT_MS = 1;
    }).toThrow(TypeError);
    expect(c.RPC_TIMEOUT_MS).toBe(500);
  });

  it('checks DATABASE_URL is a postgres URL', () => {
    expect(parseConfig(DatabaseEnv, {}).DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(parseConfig(DatabaseEnv, { DATABASE_URL: 'postgresql://u@h/db' }).DATABASE_URL).toBe('postgresql://u@h/db');
    expect(configError(DatabaseEnv, { DATABASE_URL: 'mysql://u@h/db' }).message).toContain('DATABASE_URL: must be a postgres:// URL');
  });

  it('works with extended schemas', () => {
    const Env = BaseEnv.extend({ ACCESS_TTL: DurationSeconds.default(900) });
    expect(parseConfig(Env, {}).ACCESS_TTL).toBe(900);
    expect(parseConfig(Env, { ACCESS_TTL: '2h' }).ACCESS_TTL).toBe(7200);
    expect(configError(Env, { ACCESS_TTL: '15x' }).message).toContain('ACCESS_TTL');
  });
});

describe('DurationSeconds', () => {
  it.each([
    ['900', 900],
    ['0', 0],
    ['900s', 900],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86_400],
    ['30d', 2_592_000],
  ])('parses %j as %d seconds', (input, seconds) => {
    expect(DurationSeconds.parse(input)).toBe(seconds);
  });

  it.each(['15x', '', 'm', '-5', '1.5h', '15 minutes', '15M', 'h2', '15mm'])('rejects %j', (input) => {
    expect(DurationSeconds.safeParse(input).success).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(DurationSeconds.safeParse(900).success).toBe(false);
  });
});

describe('AccessTokenTtl (ACCESS_TOKEN_TTL, shared by auth-service and the gateway)', () => {
  const Env = z.object({ ACCESS_TOKEN_TTL: AccessTokenTtl });

  it('defaults to 15 minutes and parses durations from 30 s to 24 h', () => {
    expect(parseConfig(Env, {}).ACCESS_TOKEN_TTL).toBe(900);
    expect(parseConfig(Env, { ACCESS_TOKEN_TTL: '30' }).ACCESS_TOKEN_TTL).toBe(30);
    expect(parseConfig(Env, { ACCESS_TOKEN_TTL: '1h' }).ACCESS_TOKEN_TTL).toBe(3600);
    expect(parseConfig(Env, { ACCESS_TOKEN_TTL: '24h' }).ACCESS_TOKEN_TTL).toBe(86_400);
  });

  it.each([
    ['29s', 'must be at least 30 seconds'],
    ['25h', 'must be at most 24 hours'],
    ['soon', 'must be a duration'],
  ])('refuses %j: %s', (value, message) => {
    expect(configError(Env, { ACCESS_TOKEN_TTL: value }).message).toContain(`ACCESS_TOKEN_TTL: ${message}`);
  });
});

describe('Ipv6Prefix (THROTTLE_IPV6_PREFIX, shared by auth-service and users-service)', () => {
  const schema = z.object({ THROTTLE_IPV6_PREFIX: Ipv6Prefix });

  it('defaults to 64 and takes any prefix length from 1 to 128', () => {
    expect(parseConfig(schema, {}).THROTTLE_IPV6_PREFIX).toBe(64);
    for (const bits of ['1', '48', '56', '128']) expect(parseConfig(schema, { THROTTLE_IPV6_PREFIX: bits }).THROTTLE_IPV6_PREFIX).toBe(Number(bits));
  });

  it.each(['0', '129', '64.5', '/64', 'x'])('rejects %j, naming the variable', (bits) => {
    expect(configError(schema, { THROTTLE_IPV6_PREFIX: bits }).message).toContain('THROTTLE_IPV6_PREFIX');
  });
});

describe('SchemaName', () => {
  it('accepts lowercase SQL identifiers only', () => {
    for (const ok of ['users', 'auth_v2', '_x', 'a'.repeat(63)]) expect(SchemaName.safeParse(ok).success).toBe(true);
    for (const bad of ['Users', '1users', 'a-b', 'a b', 'x"; drop', '', 'a'.repeat(64)]) expect(SchemaName.safeParse(bad).success).toBe(false);
  });
});

describe('NATS connection settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'um-config-'));
  const file = join(dir, 'service.creds');
  writeFileSync(file, 'not read here');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are all optional, and empty means unset', () => {
    const c = parseConfig(BaseEnv, { NATS_USER: '', NATS_PASSWORD: '', NATS_TOKEN: '', NATS_CREDS: '', NATS_NKEY_SEED: '', NATS_TLS_CA: '' });
    for (const name of ['NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_CREDS', 'NATS_NKEY_SEED', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'] as const)
      expect(c[name]).toBeUndefined();
  });

  it('accept one way to authenticate and TLS files', () => {
    expect(parseConfig(BaseEnv, { NATS_USER: 'gateway', NATS_PASSWORD: 'pw' })).toMatchObject({ NATS_USER: 'gateway', NATS_PASSWORD: 'pw' });
    expect(parseConfig(BaseEnv, { NATS_CREDS: file, NATS_TLS_CA: file, NATS_TLS_CERT: file, NATS_TLS_KEY: file })).toMatchObject({ NATS_CREDS: file, NATS_TLS_KEY: file });
  });

  it.each([
    [{ NATS_USER: 'gateway' }, 'NATS_PASSWORD', 'must be set together with NATS_USER'],
    [{ NATS_PASSWORD: 'secret-pw-1' }, 'NATS_USER', 'must be set together with NATS_PASSWORD'],
    [{ NATS_TLS_CERT: file }, 'NATS_TLS_KEY', 'must be set together with NATS_TLS_CERT'],
    [{ NATS_TLS_KEY: file }, 'NATS_TLS_CERT', 'must be set together with NATS_TLS_KEY'],
    [{ NATS_CREDS: join(dir, 'missing.creds') }, 'NATS_CREDS', 'must be the path of a readable file'],
    [{ NATS_NKEY_SEED: 'SUAEXAMPLESEED' }, 'NATS_NKEY_SEED', 'must be the path of a readable file'],
    [
      { NATS_USER: 'gateway', NATS_PASSWORD: 'secret-pw-1', NATS_TOKEN: 'secret-token-1' },
      'NATS_TOKEN',
      'only one way to authenticate to NATS may be set, found NATS_USER, NATS_TOKEN',
    ],
    [{ NATS_TOKEN: 'secret-token-1', NATS_CREDS: file }, 'NATS_CREDS', 'only one way to authenticate'],
  ])('refuses %j, naming %s, without echoing secrets', (env, name, message) => {
    const err = configError(BaseEnv, env);
    expect(err.message).toContain(`  ${name}: ${message}`);
    expect(err.message).not.toMatch(/secret-|SUAEXAMPLESEED/);
  });
});

describe('optionalEnv', () => {
  const Port = optionalEnv(z.coerce.number().int().min(1));
  it('reads an empty value as unset, and checks any other', () => {
    expect(Port.parse('')).toBeUndefined();
    expect(Port.parse(undefined)).toBeUndefined();
    expect(Port.parse('8080')).toBe(8080);
    expect(Port.safeParse('0').success).toBe(false);
  });
});
