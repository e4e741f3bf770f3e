import { AccessTokenTtl, BaseEnv, optionalEnv, parseConfig, ProfileEnv } from '@um/platform';
import { z } from 'zod';

export const GatewayEnv = BaseEnv.extend(ProfileEnv.shape).extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address the gateway listens on. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Express `trust proxy`: set when behind a load balancer so client addresses are right. */
  TRUST_PROXY: optionalEnv(z.string()),
  /** auth-service's access-token lifetime (same variable, same value): tokens living longer are refused. */
  ACCESS_TOKEN_TTL: AccessTokenTtl,
  /** Request and response bodies in the access log: personal fields masked, as sent, or none at all. */
  LOG_BODIES: z.enum(['masked', 'full', 'off']).default('masked'),
  /** Who may list and search users and read another user: any signed-in caller, or admins only. */
  USER_DIRECTORY: z.enum(['all', 'admins']).default('all'),
  /** What non-admins see of other users: everything, or the public form (no email, no birthday). */
  USER_DIRECTORY_FIELDS: z.enum(['full', 'public']).default('full'),
});

export type GatewayConfig = Readonly<z.infer<typeof GatewayEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): GatewayConfig => parseConfig(GatewayEnv, env);
