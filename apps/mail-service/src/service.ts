import { fileURLToPath } from 'node:url';
import { Rpcs } from '@um/contracts';
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
import { registerConsumerMetrics } from './consumers/consumer-metrics.js';
import { UsersEventsConsumer } from './consumers/users-events.js';
import { configureConfirmationMail, sendEmailChangedNotice, sendEmailConfirmation } from './mail/send-email-confirmation.js';
import { sendPasswordReset, sendPasswordResetNotice } from './mail/send-password-reset.js';
import { createTransport } from './mail/transport.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Start mail-service: migrate, connect, then consume users events and send confirmation emails. */
export async function startMailService(config: MailConfig, log: Logger = createLogger('mail-service', config.LOG_LEVEL)) {
  await migrate(config.DATABASE_URL, config.MAIL_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.MAIL_DB_SCHEMA, 4);
  const nc = await connectNats(config, 'mail-service', log);
  const metrics = createMetricsRegistry('mail-service');
  const rpc = new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS, RetryPolicy.fromConfig(config), undefined, metrics);
  const transport = createTransport(config.SMTP_URL, log);
  configureConfirmationMail({
    issueToken: (email) => rpc.call(Rpcs.users.issueEmailConfirmation, { email }, { requestId: 'mail:issue-token' }),
    transport,
    from: config.MAIL_FROM,
    publicUrl: config.PUBLIC_URL,
  });
  const resetMail = { transport, from: config.MAIL_FROM, publicUrl: config.PUBLIC_URL };
  const { js, jsm } = await jetStreamOf(nc);
  const consumer = new UsersEventsConsumer({
    js,
    jsm,
    pool,
    rpc,
    namespace: config.NATS_NAMESPACE,
    replicas: config.JETSTREAM_REPLICAS,
    log,
    sendEmailConfirmation: (email) => sendEmailConfirmation(email),
    sendEmailChangedNotice: (oldEmail, newEmail) => sendEmailChangedNotice(oldEmail, newEmail),
    sendPasswordReset: (email, token, expiresAt) => sendPasswordReset(resetMail, email, token, expiresAt),
    sendPasswordResetNotice: (email) => sendPasswordResetNotice(resetMail, email),
    retry: { baseMs: config.MAIL_RETRY_BASE_MS, maxMs: config.MAIL_RETRY_MAX_MS },
    metrics: registerConsumerMetrics(metrics, { jsm, namespace: config.NATS_NAMESPACE }),
  });
  await consumer.start();
  const health = startHealthServer(config.HEALTH_PORT, async () => !nc.isClosed());
  const metricsServer = await startMetricsServer(config.METRICS_PORT, metrics, log);
  log.info({ smtp: config.SMTP_URL ? 'configured' : 'log only', public_url: config.PUBLIC_URL }, 'mail-service ready');
  return {
    log,
    metricsServer,
    stop: async () => {
      health?.close();
      metricsServer?.close();
      await consumer.stop();
      await nc.drain();
      transport.close();
      await pool.end();
    },
  };
}
