import { readFileSync } from 'node:fs';
import { buildProfile, parseProfileSchema, ProfileSchemaError, type Profile } from '@um/contracts';
import { z } from 'zod';
import { ConfigError, optionalEnv } from './config.js';

/** `PROFILE_SCHEMA`: path of the profile schema file (JSON); unset, only the built-in attributes exist. */
export const ProfileEnv = z.object({
  PROFILE_SCHEMA: optionalEnv(z.string()),
});

/**
 * Read, check and build the profile schema named by `PROFILE_SCHEMA`. Every service that validates
 * users loads the same file; a file it cannot use stops the start with a ConfigError naming the
 * attribute and the problem.
 */
export function loadProfile(path: string | undefined): Profile {
  if (path === undefined) return buildProfile();
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`PROFILE_SCHEMA: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`PROFILE_SCHEMA: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return buildProfile(parseProfileSchema(json, `PROFILE_SCHEMA ${path}`));
  } catch (e) {
    if (e instanceof ProfileSchemaError) throw new ConfigError(e.message);
    throw e;
  }
}
