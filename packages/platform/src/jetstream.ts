import { streamName } from '@um/contracts';
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

/** A stream of events: its (namespaced) name, subjects, how long messages are kept and the window duplicates are dropped in. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  maxAgeMs: number;
  duplicateWindowMs: number;
}

/**
 * Make sure `spec`'s stream exists: file storage, limits retention, `replicas` copies (on a JetStream
 * cluster). Safe to call from every replica. An existing stream keeps the settings it was created with.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, replicas: number): Promise<string> {
  const { name } = spec;
  const config = {
    name,
    subjects: spec.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(spec.maxAgeMs),
    duplicate_window: nanos(spec.duplicateWindowMs),
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
  /** The stream consumed, created when missing. */
  stream: StreamSpec;
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
 * A durable pull consumer of a stream: explicit acks, from the start of the stream, unlimited
 * redeliveries. `handle` runs for one message at a time and settles it (ack, nak or term); whatever
 * it throws is passed to `onError` and the message is left to redeliver.
 */
export async function consumeDurable(
  o: DurableConsumerOptions,
  handle: (m: JsMsg) => Promise<void>,
  onError: (err: unknown, m: JsMsg) => void,
): Promise<{ stream: string; durable: string; stop: () => Promise<void> }> {
  const stream = await ensureStream(o.jsm, o.stream, o.replicas);
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
