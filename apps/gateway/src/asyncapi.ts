import { allRpcs, Headers, RpcReply, PublishedUserEvent, queueGroup, rpcSubject, streamName, Streams, Consumers, usersEventSubject, type Rpc } from '@um/contracts';
import { z } from 'zod';

/** A zod contract as the JSON Schema (draft-07, which AsyncAPI schemas extend) of what goes on the wire. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, definitions = {}, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io, unrepresentable: 'any' }) as Record<string, unknown>;
  // Contracts with an id (`User`) come out as `#/definitions/…` references, which would point at
  // the root of the AsyncAPI document: every message carries its schemas inline instead.
  return inlineDefinitions(rest, definitions as Record<string, unknown>) as Record<string, unknown>;
}

function inlineDefinitions(node: unknown, definitions: Record<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineDefinitions(n, definitions));
  if (!node || typeof node !== 'object') return node;
  const { $ref, ...rest } = node as Record<string, unknown>;
  if (typeof $ref === 'string' && $ref.startsWith('#/definitions/')) return inlineDefinitions(definitions[$ref.slice('#/definitions/'.length)], definitions);
  return Object.fromEntries(Object.entries({ ...($ref === undefined ? {} : { $ref }), ...rest }).map(([k, v]) => [k, inlineDefinitions(v, definitions)]));
}

const header = (description: string) => ({ type: 'string', description });

/** Headers every RPC request carries (`Headers` in the contracts). */
const RpcHeaders = {
  type: 'object',
  properties: {
    [Headers.requestId]: header('Correlates the call with the HTTP request and every log line it caused'),
    [Headers.actorId]: header('The user on whose behalf the call is made, when there is one'),
    [Headers.accessToken]: header(
      "With x-actor-id on a call the gateway makes: the caller's access token. users-service and auth-service verify it and take the actor from its sub; x-actor-id without it counts for nothing",
    ),
    [Headers.idempotencyKey]: header('On every write: a repeat with the same key (per caller and RPC, for 24 h) gets the first outcome'),
    [Headers.progress]: header('The interval (ms) at which the caller wants signs of life (empty messages with this header) while the request is worked on'),
  },
};

const OWNER: Record<Rpc['service'], string> = { users: 'users-service', auth: 'auth-service' };

const channelKey = (rpc: Rpc) => `rpc.${rpc.name}`;
const messageKey = (rpc: Rpc, part: 'request' | 'reply') => `${rpc.name.replace(/\./g, '_')}_${part}`;

/**
 * AsyncAPI 3.0 document of the messages on NATS, generated from the zod contracts: the thin events
 * users-service publishes to JetStream (the public integration surface), and the request/reply
 * subjects between the services (internal: tagged `internal` and `x-internal`, only the listed
 * callers may send them). Addresses include this deployment's `NATS_NAMESPACE`.
 */
export function asyncApiDocument(namespace?: string): object {
  const stream = streamName(namespace, Streams.usersEvents);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const event of PublishedUserEvent.options) {
    const type = event.shape.type.value;
    messages[type] = {
      name: type,
      title: type,
      contentType: 'application/json',
      summary: `users-service published a ${type} event (ids and non-personal facts only)`,
      headers: { type: 'object', properties: { 'Nats-Msg-Id': header('The event id: JetStream drops a republished copy within its duplicate window') } },
      payload: jsonSchema(event, 'input'),
    };
    channels[type] = {
      address: usersEventSubject(namespace, type),
      title: type,
      description: `JetStream stream \`${stream}\`. Consumers use durable pull consumers with explicit acks; delivery is at least once, so deduplicate by \`event_id\`.`,
      messages: { [type]: { $ref: `#/components/messages/${type}` } },
      'x-jetstream': { stream, durableConsumers: Object.values(Consumers).map((c) => streamName(namespace, c)) },
    };
    operations[`publish${type}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${type}` },
      summary: `users-service's relay publishes ${type} once its transaction committed`,
      tags: [{ name: 'events' }],
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
    };
  }

  for (const rpc of allRpcs()) {
    const [request, reply] = [messageKey(rpc, 'request'), messageKey(rpc, 'reply')];
    const internal = { tags: [{ name: 'internal' }], 'x-internal': true };
    messages[request] = { name: request, contentType: 'application/json', headers: RpcHeaders, payload: jsonSchema(rpc.request, 'input'), ...internal };
    messages[reply] = { name: reply, contentType: 'application/json', payload: jsonSchema(RpcReply(rpc.reply), 'output'), ...internal };
    channels[channelKey(rpc)] = {
      address: rpcSubject(namespace, rpc.name),
      description: `Internal request/reply, answered by ${OWNER[rpc.service]}; callers: ${rpc.callers.join(', ')}.`,
      messages: { request: { $ref: `#/components/messages/${request}` } },
      ...internal,
    };
    // The reply goes to the requester's inbox: an address only known at run time.
    channels[`${channelKey(rpc)}.reply`] = {
      address: null,
      description: "The requester's inbox (the NATS reply subject of the request).",
      messages: { reply: { $ref: `#/components/messages/${reply}` } },
      ...internal,
    };
    operations[`answer_${rpc.name.replace(/\./g, '_')}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${channelKey(rpc)}` },
      summary: `${OWNER[rpc.service]} answers ${rpc.name} (${rpc.kind})`,
      messages: [{ $ref: `#/channels/${channelKey(rpc)}/messages/request` }],
      reply: { channel: { $ref: `#/channels/${channelKey(rpc)}.reply` }, messages: [{ $ref: `#/channels/${channelKey(rpc)}.reply/messages/reply` }] },
      bindings: { nats: { queue: queueGroup(namespace, OWNER[rpc.service]), bindingVersion: '0.1.0' } },
      'x-callers': rpc.callers,
      'x-kind': rpc.kind,
      ...internal,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'User management events',
      version: '0.1.0',
      description:
        'The messages on NATS. Events (tag `events`) are the integration surface: thin, versioned, validated by publisher and consumers. ' +
        'Request/reply subjects (tag `internal`) are between the services only; NATS permissions stop anyone else from sending them.',
      tags: [
        { name: 'events', description: 'JetStream events anyone may consume' },
        { name: 'internal', description: 'Service-to-service request/reply; not a public API' },
      ],
    },
    defaultContentType: 'application/json',
    servers: { nats: { host: '127.0.0.1:4222', protocol: 'nats', description: 'NATS_URL of the deployment' } },
    channels,
    operations,
    components: { messages },
  };
}
