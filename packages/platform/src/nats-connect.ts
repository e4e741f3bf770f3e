import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { credsAuthenticator, errors, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import type { NatsConnectionConfig } from './config.js';
import type { Logger } from './logger.js';

/** How long to wait between attempts while the server is not there yet. */
const RETRY_MS = 500;

/**
 * Each service gets its own reply subjects, so the server's permissions can let a service read
 * only the replies to its own requests (and its own JetStream deliveries).
 */
export const inboxPrefixOf = (name: string) => `_INBOX_${name}`;

/** The nats.js options for one service from its config: credentials, TLS, its inbox prefix. */
export function natsConnectOptions(config: NatsConnectionConfig, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: config.NATS_URL.split(','),
    name,
    inboxPrefix: inboxPrefixOf(name),
    maxReconnectAttempts: -1,
    reconnectTimeWait: RETRY_MS,
  };
  if (config.NATS_USER) Object.assign(opts, { user: config.NATS_USER, pass: config.NATS_PASSWORD });
  if (config.NATS_TOKEN) opts.token = config.NATS_TOKEN;
  // Files are read on every (re)connect, so rotated credentials are picked up without a restart.
  const creds = config.NATS_CREDS;
  if (creds) opts.authenticator = credsAuthenticator(() => readFileSync(creds));
  const seed = config.NATS_NKEY_SEED;
  if (seed) opts.authenticator = nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(seed, 'utf8').trim()));
  if (config.NATS_TLS_CA || config.NATS_TLS_CERT)
    opts.tls = {
      ...(config.NATS_TLS_CA ? { caFile: config.NATS_TLS_CA } : {}),
      ...(config.NATS_TLS_CERT ? { certFile: config.NATS_TLS_CERT, keyFile: config.NATS_TLS_KEY } : {}),
    };
  return opts;
}

/** The server refused who we are: retrying cannot help, so it must stop the process with a clear message. */
function isAuthError(e: unknown): boolean {
  for (let err = e; err instanceof Error; err = err.cause) if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) return true;
  return false;
}

export class NatsAuthError extends Error {}

/**
 * Connect, retrying until the server is there (start order should not matter), and reconnecting
 * forever afterwards. Refused credentials are not retried: the first refusal throws NatsAuthError.
 * Status changes are logged; nothing secret is.
 */
export async function connectNats(config: NatsConnectionConfig, name: string, log: Logger): Promise<NatsConnection> {
  const opts = natsConnectOptions(config, name);
  let nc: NatsConnection | undefined;
  for (let attempt = 1; !nc; attempt++) {
    try {
      nc = await connect(opts);
    } catch (e) {
      if (isAuthError(e))
        throw new NatsAuthError(
          `NATS at ${withoutUserInfo(config.NATS_URL)} refused the credentials of ${name} (${e instanceof Error ? e.message : String(e)}): check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED`,
          { cause: e },
        );
      // Say it once, then every 20 attempts, while waiting for the server.
      if (attempt === 1 || attempt % 20 === 0) log.warn({ err: e instanceof Error ? e.message : String(e), attempt }, 'NATS not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
  log.info({ server: nc.getServer(), auth: authMethod(config) }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ status: s.type }, 'NATS connection status');
      else if (s.type === 'error') log.warn({ status: s.type, err: s.error.message }, 'NATS connection status');
    }
  })();
  // nats.js gives up reconnecting after refused credentials: say so loudly (health checks report it).
  void nc.closed().then((err) => {
    if (err) log.error({ err: err.message }, 'NATS connection closed');
  });
  return nc;
}

/** A URL may carry `user:password@`: never repeat it. */
const withoutUserInfo = (urls: string) => urls.replace(/\/\/[^@/,]*@/g, '//');

/** Which kind of credentials we used, never their value. */
function authMethod(config: NatsConnectionConfig): string {
  if (config.NATS_USER) return `user ${config.NATS_USER}`;
  if (config.NATS_TOKEN) return 'token';
  if (config.NATS_CREDS) return 'creds file';
  if (config.NATS_NKEY_SEED) return 'nkey';
  return 'none';
}
