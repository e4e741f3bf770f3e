import { allRpcs, bucketName, Buckets, Consumers, rpcSubject, Services, streamName, Streams, usersEventWildcard, type ServiceName } from '@um/contracts';
import { inboxPrefixOf } from './nats-connect.js';
import { MAX_PROGRESS_MESSAGES } from './rpc-progress.js';

/** What one service may publish and subscribe to on NATS. */
export interface ServicePermissions {
  publish: string[];
  subscribe: string[];
  /** May publish replies to the requests it received (and only those, only once). */
  allowResponses: boolean;
}

const API = '$JS.API';

/** Make sure a stream exists (`ensureStream`, `Kvm.create`): look it up, create it when missing. */
const ensureStream = (stream: string) => [`${API}.STREAM.INFO.${stream}`, `${API}.STREAM.CREATE.${stream}`];

/**
 * A durable pull consumer: create it (2.9+ clients name it in the subject, with the filter
 * appended when there is one; older ones use DURABLE.CREATE), look it up, pull, acknowledge.
 */
const durablePullConsumer = (stream: string, durable: string) => [
  `${API}.CONSUMER.CREATE.${stream}.${durable}`,
  `${API}.CONSUMER.CREATE.${stream}.${durable}.>`,
  `${API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
  `${API}.CONSUMER.INFO.${stream}.${durable}`,
  `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
  `$JS.ACK.${stream}.${durable}.>`,
];

/**
 * Every service's permissions, derived from the contracts: a caller may publish exactly the RPC
 * subjects whose `callers` name it, the owner may subscribe to its own RPC subjects and answer
 * them, each reads only its own inbox, and JetStream access is limited to the streams, consumers
 * and bucket the service uses. `namespace` matches `NATS_NAMESPACE` (unset in the deployment).
 */
export function natsPermissions(namespace?: string): Record<ServiceName, ServicePermissions> {
  const usersStream = streamName(namespace, Streams.usersEvents);
  const bucket = bucketName(namespace, Buckets.revocations);
  const kvStream = `KV_${bucket}`;
  const calls = (service: ServiceName) =>
    allRpcs()
      .filter((r) => r.callers.includes(service))
      .map((r) => rpcSubject(namespace, r.name));
  const answers = (owner: 'users' | 'auth') =>
    allRpcs()
      .filter((r) => r.service === owner)
      .map((r) => rpcSubject(namespace, r.name));
  const inbox = (service: ServiceName) => `${inboxPrefixOf(service)}.>`;
  // Every JetStream client asks the server for its account limits first.
  const jsInfo = `${API}.INFO`;
  // Writers read an entry before they raise it (compare-and-set): direct get, or message get where the stream has no direct access.
  const revocationWriter = [...ensureStream(kvStream), `$KV.${bucket}.>`, `${API}.DIRECT.GET.${kvStream}.>`, `${API}.STREAM.MSG.GET.${kvStream}`];

  const perms: Record<ServiceName, ServicePermissions> = {
    gateway: {
      publish: [
        ...calls('gateway'),
        jsInfo,
        ...ensureStream(kvStream),
        // The revocation watch: an ordered push consumer it replaces (deleting the old one) after a
        // gap, and whose flow-control requests it answers; without those a large bucket stalls.
        `${API}.CONSUMER.CREATE.${kvStream}.>`,
        `${API}.CONSUMER.DELETE.${kvStream}.>`,
        `$JS.FC.${kvStream}.>`,
      ],
      subscribe: [inbox('gateway')],
      allowResponses: false,
    },
    'users-service': {
      publish: [...calls('users-service'), jsInfo, ...ensureStream(usersStream), usersEventWildcard(namespace), ...revocationWriter],
      subscribe: [...answers('users'), inbox('users-service')],
      allowResponses: true,
    },
    'auth-service': {
      publish: [...calls('auth-service'), jsInfo, ...ensureStream(usersStream), ...durablePullConsumer(usersStream, streamName(namespace, Consumers.auth)), ...revocationWriter],
      subscribe: [...answers('auth'), inbox('auth-service')],
      allowResponses: true,
    },
    'mail-service': {
      publish: [...calls('mail-service'), jsInfo, ...ensureStream(usersStream), ...durablePullConsumer(usersStream, streamName(namespace, Consumers.mail))],
      subscribe: [inbox('mail-service')],
      allowResponses: false,
    },
  };
  return perms;
}

/** The environment variable holding a service's NATS password, on the server and in the service. */
export const natsPasswordVariable = (service: ServiceName) => `NATS_${service.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

const quote = (s: string) => JSON.stringify(s);
const list = (items: string[], indent: string) => `[\n${items.map((i) => `${indent}  ${quote(i)}`).join('\n')}\n${indent}]`;

/**
 * The nats-server `authorization` block: one user per service, its password taken from the
 * server's environment (`$NATS_<SERVICE>_PASSWORD`), no anonymous access.
 */
export function renderNatsServerConfig(namespace?: string): string {
  const perms = natsPermissions(namespace);
  const users = Services.map((service) => {
    const p = perms[service];
    const i = '        ';
    return [
      `    {`,
      `      user: ${quote(service)}`,
      `      password: $${natsPasswordVariable(service)}`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish, i)} }`,
      `        subscribe: { allow: ${list(p.subscribe, i)} }`,
      // The answer and the signs of life sent while working on it (rpc-progress.ts).
      ...(p.allowResponses ? [`        allow_responses: { max: ${MAX_PROGRESS_MESSAGES + 1} }`] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    '# Generated by `npm run nats:config` from packages/contracts (who calls which RPC) and',
    '# packages/platform/src/nats-permissions.ts. Do not edit: change those and regenerate.',
    `# Subjects and streams are those of NATS_NAMESPACE ${namespace ? `"${namespace}"` : 'unset (the deployment)'}.`,
    '# Passwords come from the server environment; a missing variable stops the server at start.',
    '# NATS parses their values: use letters, digits, "-" and "_", starting with a letter.',
    'authorization {',
    '  users: [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}
