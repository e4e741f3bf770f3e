import { fileURLToPath } from 'node:url';
import {
  connectNats,
  createLogger,
  createMetricsRegistry,
  createPool,
  jetStreamOf,
  migrate,
  RetryPolicy,
  RpcClient,
  startHealthServer,
  startMetricsServer,
  type Logger,
} from '@um/platform';
import type { MailConfig } from './config.js';
import { createMailService } from './mail-service.js';
import { createTransport } from './mail/transport.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Start mail-service with its real dependencies: migrate, connect to Postgres, NATS and the SMTP
 * server (or the log), then consume users events and send their emails (see `createMailService`).
 */
export async function startMailService(config: MailConfig, log: Logger = createLogger('mail-service', config.LOG_LEVEL)) {
  await migrate(config.DATABASE_URL, config.MAIL_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.MAIL_DB_SCHEMA, 4);
  const nc = await connectNats(config, 'mail-service', log);
  const metrics = createMetricsRegistry('mail-service');
  const rpc = new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS, RetryPolicy.fromConfig(config), undefined, metrics);
  const transport = createTransport(config.SMTP_URL, log);
  const { js, jsm } = await jetStreamOf(nc);
  const mail = createMailService({
    js,
    jsm,
    pool,
    rpc,
    transport,
    log,
    metrics,
    namespace: config.NATS_NAMESPACE,
    replicas: config.JETSTREAM_REPLICAS,
    from: config.MAIL_FROM,
    publicUrl: config.PUBLIC_URL,
    retry: { baseMs: config.MAIL_RETRY_BASE_MS, maxMs: config.MAIL_RETRY_MAX_MS },
  });
  await mail.start();
  const health = startHealthServer(config.HEALTH_PORT, async () => !nc.isClosed());
  const metricsServer = await startMetricsServer(config.METRICS_PORT, metrics, log);
  log.info({ smtp: config.SMTP_URL ? 'configured' : 'log only', public_url: config.PUBLIC_URL }, 'mail-service ready');
  return {
    log,
    metricsServer,
    stop: async () => {
      health?.close();
      metricsServer?.close();
      await mail.stop();
      await nc.drain();
      transport.close();
      await pool.end();
    },
  };
}
