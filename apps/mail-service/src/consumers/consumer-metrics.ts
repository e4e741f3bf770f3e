import { Consumers, streamName, Streams } from '@um/contracts';
import { Counter, Gauge, type JetStreamManager, type Registry } from '@um/platform';

/** What the users-events consumer counts as it goes. */
export interface ConsumerMetrics {
  /** Failed attempts at a message, by what the failure means (see `classify`). */
  failures: Counter<'kind'>;
  /** Messages given up on and kept in `dead_letters`. */
  deadLetters: Counter;
}

/**
 * mail-service's consumer metrics: failures and dead letters as they happen, and the messages still
 * to do (as JetStream counts them for the durable consumer, shared by every replica) at scrape time.
 */
export function registerConsumerMetrics(registry: Registry, o: { jsm: JetStreamManager; namespace: string | undefined }): ConsumerMetrics {
  const [stream, durable] = [streamName(o.namespace, Streams.usersEvents), streamName(o.namespace, Consumers.mail)];
  new Gauge({
    name: 'um_mail_consumer_pending_messages',
    help: 'Users events the mail consumer has still to handle: not yet delivered, or delivered and not yet acknowledged (being retried)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const info = await o.jsm.consumers.info(stream, durable).catch(() => undefined);
      if (!info) return;
      this.set({ state: 'undelivered' }, info.num_pending);
      this.set({ state: 'unacknowledged' }, info.num_ack_pending);
    },
  });
  return {
    failures: new Counter({
      name: 'um_mail_failures_total',
      help: 'Failed attempts at handling a users event (sending its email), by kind: transient (retried without limit), unexpected (retried a bounded number of times), permanent',
      labelNames: ['kind'],
      registers: [registry],
    }),
    deadLetters: new Counter({ name: 'um_mail_dead_letters_total', help: 'Users events given up on and kept in dead_letters', registers: [registry] }),
  };
}
