import { Streams, streamName, usersEventWildcard } from '@um/contracts';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

export { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
export { nanos } from '@nats-io/nats-core';
export type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, PubAck } from '@nats-io/jetstream';

/** Published copies of events are kept this long (they carry ids, never personal data). */
export const USERS_EVENTS_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** A republished event id within this window is dropped by the server (the relay's backstop). */
export const USERS_EVENTS_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** The users event stream: file storage, subjects `[ns.]um.evt.users.>`. Safe to call from every replica. */
export async function ensureUsersStream(jsm: JetStreamManager, namespace: string | undefined): Promise<string> {
  const name = streamName(namespace, Streams.usersEvents);
  const config = {
    name,
    subjects: [usersEventWildcard(namespace)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(USERS_EVENTS_MAX_AGE_MS),
    duplicate_window: nanos(USERS_EVENTS_DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(name);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (e) {
      // Another replica created it between our two calls.
      await jsm.streams.info(name).catch(() => {
        throw e;
      });
    }
  }
  return name;
}

export async function jetStreamOf(nc: NatsConnection): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
  return { js: jetstream(nc), jsm: await jetstreamManager(nc) };
}
