import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@um/contracts';
import { BaseEnv, DatabaseEnv, DurationSeconds, parseConfig, SchemaName } from '@um/platform';
import { z } from 'zod';

export const AuthEnv = BaseEnv.extend(DatabaseEnv.shape).extend({
  AUTH_DB_SCHEMA: SchemaName.default('auth_service'),
  /** Lifetime of an access token: `900`, `900s`, `15m`, `1h`… at most 24 hours. */
  ACCESS_TOKEN_TTL: DurationSeconds.default(900)
    .pipe(z.number().min(30, 'must be at least 30 seconds').max(MAX_ACCESS_TOKEN_TTL_SECONDS, 'must be at most 24 hours')),
  /** How often replicas look for a rotated signing key. */
  KEY_REFRESH_MS: z.coerce.number().int().min(1000).default(30_000),
});

export type AuthConfig = Readonly<z.infer<typeof AuthEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): AuthConfig => parseConfig(AuthEnv, env);
