import { Streams, streamName, usersEventWildcard } from '@um/contracts';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { isFailover, throughFailover } from './jetstream-failover.js';

export { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
export type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, PubAck } from '@nats-io/jetstream';

/** Published copies of events are kept this long (they carry ids, never personal data). */
export const USERS_EVENTS_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** A republished event id within this window is dropped by the server (the relay's backstop). */
export const USERS_EVENTS_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * The users event stream: file storage, subjects `[ns.]um.evt.users.>`, `replicas` copies (on a
 * JetStream cluster). Safe to call from every replica. An existing stream keeps the replicas it was
 * created with.
 */
export async function ensureUsersStream(jsm: JetStreamManager, namespace: string | undefined, replicas: number): Promise<string> {
  const name = streamName(namespace, Streams.usersEvents);
  const config = {
    name,
    subjects: [usersEventWildcard(namespace)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(USERS_EVENTS_MAX_AGE_MS),
    duplicate_window: nanos(USERS_EVENTS_DUPLICATE_WINDOW_MS),
    num_replicas: replicas,
  };
  await throughFailover(async () => {
    try {
      await jsm.streams.info(name);
    } catch (missing) {
      if (isFailover(missing)) throw missing;
      try {
        await jsm.streams.add(config);
      } catch (e) {
        // Another replica created it between our two calls.
        await jsm.streams.info(name).catch(() => {
          throw e;
        });
      }
    }
  });
  return name;
}

export async function jetStreamOf(nc: NatsConnection): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
  return { js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

export interface DurableConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string | undefined;
  /** Copies of the stream when this call creates it (`JETSTREAM_REPLICAS`); the consumer follows the stream. */
  replicas: number;
  /** Durable name before namespacing (`Consumers.*`). */
  durable: string;
  /** One subject filter (NATS 2.9 has no multi-filter consumers). */
  filterSubject: string;
  /** How long a delivered message may stay unacknowledged before it is redelivered. */
  ackWaitMs: number;
  /** Messages fetched ahead. */
  maxMessages: number;
}

/**
 * A durable pull consumer of the users events: explicit acks, from the start of the stream, unlimited
 * redeliveries. `handle` runs for one message at a time and settles it (ack, nak or term); whatever
 * it throws is passed to `onError` and the message is left to redeliver.
 */
export async function consumeUsersEvents(
  o: DurableConsumerOptions,
  handle: (m: JsMsg) => Promise<void>,
  onError: (err: unknown, m: JsMsg) => void,
): Promise<{ stream: string; durable: string; stop: () => Promise<void> }> {
  const stream = await ensureUsersStream(o.jsm, o.namespace, o.replicas);
  const durable = streamName(o.namespace, o.durable);
  await o.jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: o.filterSubject,
    ack_wait: nanos(o.ackWaitMs),
    max_deliver: -1,
  });
  const consumer = await o.js.consumers.get(stream, durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: o.maxMessages, expires: 5_000 });
  const done = (async () => {
    for await (const m of messages) await handle(m).catch((err) => onError(err, m));
  })();
  return {
    stream,
    durable,
    stop: async () => {
      await messages.close();
      await done;
    },
  };
}
