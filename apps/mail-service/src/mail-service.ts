import { Rpcs } from '@um/contracts';
import type { JetStreamClient, JetStreamManager, Logger, Pool, Registry, RpcClient } from '@um/platform';
import { registerConsumerMetrics } from './consumers/consumer-metrics.js';
import { UsersEventsConsumer } from './consumers/users-events.js';
import { sendAddressInUse, sendEmailChangeConfirmation, sendEmailChangeRequested } from './mail/send-email-change.js';
import { sendEmailChangedNotice, sendEmailConfirmation } from './mail/send-email-confirmation.js';
import { sendPasswordReset, sendPasswordResetNotice } from './mail/send-password-reset.js';
import type { MailTransport } from './mail/transport.js';

/** Everything mail-service's work needs, made by its caller: the real ones at start, fakes in tests. */
export interface MailServiceDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** mail-service's schema (migrated). */
  pool: Pool;
  rpc: Pick<RpcClient, 'call'>;
  transport: MailTransport;
  log: Logger;
  /** Where the consumer's metrics are registered. */
  metrics: Registry;
  namespace: string | undefined;
  /** `JETSTREAM_REPLICAS`: copies of the users stream if this service is the first to need it. */
  replicas: number;
  /** `MAIL_FROM`. */
  from: string;
  /** `PUBLIC_URL`: where links in emails point. */
  publicUrl: string;
  /** Redelivery backoff after a failure: doubles from the base up to the max. */
  retry: { baseMs: number; maxMs: number };
}

/**
 * mail-service's work: the users-events consumer sending confirmation, address-change and
 * password-reset emails through the transport. Consumes from `start` until `stop`.
 */
export function createMailService(d: MailServiceDeps): { start: () => Promise<void>; stop: () => Promise<void> } {
  const confirmationMail = {
    issueToken: (email: string) => d.rpc.call(Rpcs.users.issueEmailConfirmation, { email }, { requestId: 'mail:issue-token' }),
    transport: d.transport,
    from: d.from,
    publicUrl: d.publicUrl,
  };
  // Reset and address-change mails: links the user follows, nothing asked of users-service first.
  const linkMail = { transport: d.transport, from: d.from, publicUrl: d.publicUrl };
  const consumer = new UsersEventsConsumer({
    js: d.js,
    jsm: d.jsm,
    pool: d.pool,
    rpc: d.rpc,
    namespace: d.namespace,
    replicas: d.replicas,
    log: d.log,
    sendEmailConfirmation: (email) => sendEmailConfirmation(confirmationMail, email),
    sendEmailChangedNotice: (oldEmail, newEmail) => sendEmailChangedNotice(confirmationMail, oldEmail, newEmail),
    sendEmailChangeConfirmation: (newEmail, token, expiresAt) => sendEmailChangeConfirmation(linkMail, newEmail, token, expiresAt),
    sendEmailChangeRequested: (oldEmail, newEmail, token, expiresAt) => sendEmailChangeRequested(linkMail, oldEmail, newEmail, token, expiresAt),
    sendAddressInUse: (email) => sendAddressInUse(linkMail, email),
    sendPasswordReset: (email, token, expiresAt) => sendPasswordReset(linkMail, email, token, expiresAt),
    sendPasswordResetNotice: (email) => sendPasswordResetNotice(linkMail, email),
    retry: d.retry,
    metrics: registerConsumerMetrics(d.metrics, { jsm: d.jsm, namespace: d.namespace }),
  });
  return { start: () => consumer.start(), stop: () => consumer.stop() };
}
