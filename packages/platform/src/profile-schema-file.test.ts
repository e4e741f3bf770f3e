import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import { loadProfile } from './profile-schema-file.js';

const dir = mkdtempSync(join(tmpdir(), 'profile-schema-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const failure = (path: string) => {
  try {
    loadProfile(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('loaded');
};

describe('loadProfile (PROFILE_SCHEMA)', () => {
  it('unset: only the built-in attributes', () => {
    expect(loadProfile(undefined).names).toEqual([]);
  });

  it('loads a declared attribute', () => {
    expect(loadProfile(file('ok.json', '{"attributes":{"phone":{"type":"phone"}}}')).names).toEqual(['phone']);
  });

  it('stops on a missing file, bad JSON, or a bad declaration, saying which', () => {
    expect(failure(join(dir, 'missing.json'))).toMatch(/^PROFILE_SCHEMA: cannot read .*missing\.json: ENOENT$/);
    expect(failure(file('bad.json', '{"attributes": {'))).toMatch(/^PROFILE_SCHEMA: .*bad\.json is not valid JSON/);
    expect(failure(file('type.json', '{"attributes":{"phone":{"type":"telephone"}}}'))).toMatch(/invalid: attribute "phone" type: must be one of/);
  });
});
