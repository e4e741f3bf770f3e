import { accessSync, constants } from 'node:fs';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, Namespace } from '@um/contracts';
import { z } from 'zod';
import { DEFAULT_IPV6_PREFIX } from './client-address.js';

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** An optional variable: set but empty (`FOO=` in an env file) counts as unset. */
export const optionalEnv = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const optionalString = optionalEnv(z.string());
/** A path the process can read now: a missing credentials file fails at boot, not at the first reconnect. */
const readableFile = optionalEnv(
  z.string().refine((path) => {
    try {
      accessSync(path, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }, 'must be the path of a readable file'),
);

/**
 * How a process authenticates to NATS and secures the connection. All optional (an open local
 * server needs none); at most one way to authenticate.
 */
const NatsConnectionEnv = z.object({
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_TOKEN: optionalString,
  /** A `.creds` file (user JWT and nkey seed), as `nsc` writes it. */
  NATS_CREDS: readableFile,
  /** A file holding an nkey seed (`SU…`); a file, so the seed never sits in the environment. */
  NATS_NKEY_SEED: readableFile,
  /** CA bundle to verify the server with, and a client certificate and key for mutual TLS. */
  NATS_TLS_CA: readableFile,
  NATS_TLS_CERT: readableFile,
  NATS_TLS_KEY: readableFile,
});

export type NatsConnectionConfig = z.infer<typeof NatsConnectionEnv> & { NATS_URL: string };

/** Settings every process shares. */
export const BaseEnv = z
  .object({
    NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
    NATS_NAMESPACE: optionalEnv(Namespace),
    LOG_LEVEL: LogLevel.default('info'),
    RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Attempts of a call safe to repeat within RPC_TIMEOUT_MS; an attempt ends when its responder falls silent (rpc-progress.ts). */
    RPC_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** How long "no responders" (no replica of the service up) is retried before the call fails as unavailable. */
    RPC_UNAVAILABLE_RETRY_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
    HEALTH_PORT: optionalEnv(z.coerce.number().int().min(1).max(65535)),
    /** When set, Prometheus metrics are served at `/metrics` on this port (`0` picks a free one). */
    METRICS_PORT: optionalEnv(z.coerce.number().int().min(0).max(65535)),
    /**
     * Copies JetStream keeps of the users event stream and the revocation bucket when this process
     * creates them: 1 on a single server, 3 on a three-node cluster (survives losing one node).
     */
    JETSTREAM_REPLICAS: z.coerce.number().int().min(1, 'must be 1 to 5').max(5, 'must be 1 to 5').default(1),
  })
  .extend(NatsConnectionEnv.shape)
  .superRefine((env, ctx) => {
    const issue = (name: string, message: string) => ctx.addIssue({ code: 'custom', path: [name], message });
    if (env.NATS_USER && !env.NATS_PASSWORD) issue('NATS_PASSWORD', 'must be set together with NATS_USER');
    if (env.NATS_PASSWORD && !env.NATS_USER) issue('NATS_USER', 'must be set together with NATS_PASSWORD');
    const methods = (['NATS_USER', 'NATS_TOKEN', 'NATS_CREDS', 'NATS_NKEY_SEED'] as const).filter((name) => env[name]);
    if (methods.length > 1) issue(methods[1]!, `only one way to authenticate to NATS may be set, found ${methods.join(', ')}`);
    if (env.NATS_TLS_CERT && !env.NATS_TLS_KEY) issue('NATS_TLS_KEY', 'must be set together with NATS_TLS_CERT');
    if (env.NATS_TLS_KEY && !env.NATS_TLS_CERT) issue('NATS_TLS_CERT', 'must be set together with NATS_TLS_KEY');
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
export const AccessTokenTtl = DurationSeconds.default(900).pipe(z.number().min(30, 'must be at least 30 seconds').max(MAX_ACCESS_TOKEN_TTL_SECONDS, 'must be at most 24 hours'));

/**
 * `THROTTLE_IPV6_PREFIX`, read by every service that limits per client address: an IPv6 client is
 * counted by its network of this many bits (`addressLimitKey`). 1 … 128, default 64.
 */
export const Ipv6Prefix = z.coerce
  .number()
  .int('must be a whole number of bits')
  .min(1, 'must be a prefix length from 1 to 128')
  .max(128, 'must be a prefix length from 1 to 128')
  .default(DEFAULT_IPV6_PREFIX);

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
