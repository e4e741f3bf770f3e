import { MAX_ACCESS_TOKEN_TTL_SECONDS, Namespace } from '@um/contracts';
import { z } from 'zod';

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Settings every process shares. */
export const BaseEnv = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_NAMESPACE: z.preprocess((v) => (v === '' ? undefined : v), Namespace.optional()),
  LOG_LEVEL: LogLevel.default('info'),
  RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  HEALTH_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(65535).optional()),
});

export const DatabaseEnv = z.object({
  DATABASE_URL: z
    .string()
    .min(1)
    .default('postgres://postgres@127.0.0.1:5432/postgres')
    .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must be a postgres:// URL'),
});

/** A Postgres schema name we create ourselves and put into SQL as an identifier. */
export const SchemaName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier');

/** Durations such as `900`, `900s`, `15m`, `2h`, `30d` → seconds. */
export const DurationSeconds = z
  .string()
  .regex(/^\d+\s*(s|m|h|d)?$/, 'must be a duration like 900, 900s, 15m, 2h or 30d')
  .transform((s) => {
    const m = /^(\d+)\s*(s|m|h|d)?$/.exec(s)!;
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
    return Number(m[1]) * unit;
  });

/**
 * `ACCESS_TOKEN_TTL`, read by auth-service (the lifetime it signs) and by the gateway (the longest
 * lifetime it accepts): one parser so one shared environment keeps both equal. 30 s … 24 h, default 15 min.
 */
export const AccessTokenTtl = DurationSeconds.default(900).pipe(
  z.number().min(30, 'must be at least 30 seconds').max(MAX_ACCESS_TOKEN_TTL_SECONDS, 'must be at most 24 hours'),
);

export class ConfigError extends Error {}

/**
 * Parse the environment once at boot. Throws ConfigError naming every bad variable;
 * `main` turns that into a message and exit code 1.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}
