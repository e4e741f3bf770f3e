import { AccessTokenTtl, BaseEnv, DurationSeconds, gatewayReplicaUser, optionalEnv, parseConfig, ProfileEnv } from '@um/platform';
import { z } from 'zod';

/** A client's time limit: a duration (`10s`, `2m`) from 1 s to 1 h. */
const ClientTimeout = (byDefault: number) => DurationSeconds.default(byDefault).pipe(z.number().min(1, 'must be at least 1 second').max(3600, 'must be at most 1 hour'));

export const GatewayEnv = BaseEnv.extend(ProfileEnv.shape)
  .extend({
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
    /**
     * Which gateway replica this is: it connects to NATS as `gateway-<n>` and reads only the replies
     * sent to `_INBOX_gateway-<n>`. Taken from NATS_USER when that is `gateway-<n>`; set it with
     * NATS_CREDS or NATS_NKEY_SEED. Unset (and no such NATS_USER): plain `gateway`, for an open server.
     */
    GATEWAY_REPLICA: optionalEnv(z.coerce.number().int().min(1).max(999)),
    /** Time a client has to send a request's headers (408 and close beyond); at most HTTP_REQUEST_TIMEOUT, which also counts them. */
    HTTP_HEADERS_TIMEOUT: ClientTimeout(10),
    /** Time a client has to send a whole request, body included (408 and close beyond). */
    HTTP_REQUEST_TIMEOUT: ClientTimeout(30),
    /** How long an idle keep-alive connection stays open; above a load balancer's own idle timeout if one sits in front. */
    HTTP_KEEP_ALIVE_TIMEOUT: ClientTimeout(5),
  })
  .superRefine((env, ctx) => {
    const named = replicaInUser(env.NATS_USER);
    if (env.GATEWAY_REPLICA !== undefined && env.NATS_USER && named !== env.GATEWAY_REPLICA)
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_REPLICA'],
        message: `replica ${env.GATEWAY_REPLICA} connects as NATS user ${gatewayReplicaUser(env.GATEWAY_REPLICA)}, but NATS_USER is ${env.NATS_USER}`,
      });
  });

/** `gateway-<n>` → n. */
const replicaInUser = (user: string | undefined) => {
  const m = user ? /^gateway-([1-9]\d{0,2})$/.exec(user) : null;
  return m ? Number(m[1]) : undefined;
};

export type GatewayConfig = Readonly<z.infer<typeof GatewayEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): GatewayConfig => parseConfig(GatewayEnv, env);

/** Who this gateway is on NATS (its connection name and inbox prefix): `gateway-<n>` for a replica, else `gateway`. */
export function gatewayNatsName(config: Pick<GatewayConfig, 'GATEWAY_REPLICA' | 'NATS_USER'>): string {
  const replica = config.GATEWAY_REPLICA ?? replicaInUser(config.NATS_USER);
  return replica === undefined ? 'gateway' : gatewayReplicaUser(replica);
}
