import { Streams, streamName, usersEventWildcard } from '../subjects.js';

/** Published copies of events are kept this long (they carry ids, never personal data). */
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** A republished event id within this window is dropped by the server (the relay's backstop). */
const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * The users event stream: every event users-service publishes (`[ns.]um.evt.users.>`), kept 30 days,
 * duplicates dropped for 10 minutes. Created by whichever process needs it first.
 */
export const usersEventsStream = (namespace: string | undefined) => ({
  name: streamName(namespace, Streams.usersEvents),
  subjects: [usersEventWildcard(namespace)],
  maxAgeMs: MAX_AGE_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
});
