import { allRpcs, bucketName, Buckets, Consumers, rpcSubject, Services, streamName, Streams, usersEventWildcard, type ServiceName } from '@um/contracts';
import { inboxPrefixOf } from './nats-connect.js';
import { MAX_PROGRESS_MESSAGES } from './rpc-progress.js';

/**
 * NATS users the generated config gives the gateway by default: `gateway-1` … `gateway-3`, one per
 * replica, so a replica's credentials read only its own replies. More with `--gateway-replicas`.
 */
export const DEFAULT_GATEWAY_REPLICAS = 3;

/** The NATS user (and inbox name) of gateway replica `n`: `gateway-<n>`. */
export const gatewayReplicaUser = (replica: number) => `gateway-${replica}`;

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
 * them, and JetStream access is limited to the streams, consumers and bucket the service uses.
 * Its inbox is not here: that belongs to each NATS user (natsUsers). `namespace` matches
 * `NATS_NAMESPACE` (unset in the deployment).
 */
function servicePermissions(namespace?: string): Record<ServiceName, ServicePermissions> {
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
  // Every JetStream client asks the server for its account limits first.
  const jsInfo = `${API}.INFO`;
  // The revocation watch: an ordered push consumer it replaces (deleting the old one) after a
  // gap, and whose flow-control requests it answers; without those a large bucket stalls.
  const revocationWatcher = [...ensureStream(kvStream), `${API}.CONSUMER.CREATE.${kvStream}.>`, `${API}.CONSUMER.DELETE.${kvStream}.>`, `$JS.FC.${kvStream}.>`];
  // Writers read an entry before they raise it (compare-and-set): direct get, or message get where
  // the stream has no direct access. They watch too: they verify the tokens the gateway forwards.
  const revocationWriter = [...revocationWatcher, `$KV.${bucket}.>`, `${API}.DIRECT.GET.${kvStream}.>`, `${API}.STREAM.MSG.GET.${kvStream}`];

  const perms: Record<ServiceName, ServicePermissions> = {
    gateway: {
      publish: [...calls('gateway'), jsInfo, ...revocationWatcher],
      subscribe: [],
      allowResponses: false,
    },
    'users-service': {
      publish: [...calls('users-service'), jsInfo, ...ensureStream(usersStream), usersEventWildcard(namespace), ...revocationWriter],
      subscribe: [...answers('users')],
      allowResponses: true,
    },
    'auth-service': {
      publish: [...calls('auth-service'), jsInfo, ...ensureStream(usersStream), ...durablePullConsumer(usersStream, streamName(namespace, Consumers.auth)), ...revocationWriter],
      subscribe: [...answers('auth')],
      allowResponses: true,
    },
    'mail-service': {
      publish: [...calls('mail-service'), jsInfo, ...ensureStream(usersStream), ...durablePullConsumer(usersStream, streamName(namespace, Consumers.mail))],
      subscribe: [],
      allowResponses: false,
    },
  };
  return perms;
}

/** One user of the generated NATS config: who it is, which service runs as it, what it may do. */
export interface NatsUser {
  user: string;
  service: ServiceName;
  permissions: ServicePermissions;
}

/**
 * The NATS users of the deployment: one per service, except the gateway, which gets one per replica
 * (`gateway-1` … `gateway-<gatewayReplicas>`) with the same publish rights. Each user reads only its
 * own inbox (`_INBOX_<user>.>`, the prefix the process connecting as it uses), so one gateway
 * replica's credentials cannot read the replies (tokens included) another replica receives.
 */
export function natsUsers(namespace?: string, gatewayReplicas = DEFAULT_GATEWAY_REPLICAS): NatsUser[] {
  if (!Number.isInteger(gatewayReplicas) || gatewayReplicas < 1) throw new Error(`gateway replicas must be a positive integer, got ${gatewayReplicas}`);
  const perms = servicePermissions(namespace);
  const withInbox = (user: string, service: ServiceName): NatsUser => {
    const p = perms[service];
    return { user, service, permissions: { ...p, subscribe: [...p.subscribe, `${inboxPrefixOf(user)}.>`] } };
  };
  return Services.flatMap((service) =>
    service === 'gateway' ? Array.from({ length: gatewayReplicas }, (_, i) => withInbox(gatewayReplicaUser(i + 1), service)) : [withInbox(service, service)],
  );
}

/** The environment variable holding a NATS user's password, on the server and in the service: `NATS_GATEWAY_1_PASSWORD`. */
export const natsPasswordVariable = (user: string) => `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

const quote = (s: string) => JSON.stringify(s);
const list = (items: string[], indent: string) => `[\n${items.map((i) => `${indent}  ${quote(i)}`).join('\n')}\n${indent}]`;

/**
 * The nats-server `authorization` block: one user per service and per gateway replica (natsUsers),
 * its password taken from the server's environment (`$NATS_<USER>_PASSWORD`), no anonymous access.
 */
export function renderNatsServerConfig(namespace?: string, gatewayReplicas = DEFAULT_GATEWAY_REPLICAS): string {
  const users = natsUsers(namespace, gatewayReplicas).map(({ user, permissions: p }) => {
    const i = '        ';
    return [
      `    {`,
      `      user: ${quote(user)}`,
      `      password: $${natsPasswordVariable(user)}`,
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
    `# Gateway replicas: ${gatewayReplicas}, each its own user (gateway-<n>) reading only its own replies.`,
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
