import { Parser } from '@asyncapi/parser';
import { allRpcs, PublishedUserEvent } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../src/asyncapi.js';
import { requester, startGateway, type Harness } from './support.js';

/** The document as served (JSON), through the official parser and its validation. */
const parse = (namespace?: string) => new Parser().parse(JSON.stringify(asyncApiDocument(namespace)));
const eventTypes = PublishedUserEvent.options.map((o) => o.shape.type.value);

describe('the AsyncAPI document', () => {
  let parsed: Awaited<ReturnType<typeof parse>>;
  beforeAll(async () => {
    parsed = await parse('ns1');
  });

  it('is a valid AsyncAPI 3.0 document: no error and no warning from @asyncapi/parser', async () => {
    const { document, diagnostics } = parsed;
    // Severity 0 is an error, 1 a warning; information and hints (such as "3.1.0 exists") may stay.
    expect(diagnostics.filter((d) => Number(d.severity) <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('has a channel and a publish operation for every published event, at its subject, with the contract as payload', async () => {
    const { document } = parsed;
    for (const type of eventTypes) {
      const channel = document!.channels().get(type);
      expect(channel?.address(), type).toBe(`ns1.um.evt.users.${type}`);
      const operation = document!.operations().get(`publish${type}`)!;
      expect(operation.action()).toBe('send');
      expect(
        operation
          .tags()
          .all()
          .map((t) => t.name()),
      ).toEqual(['events']);
    }
    const registered = document!.components().messages().get('UserRegistered')!.payload()!;
    expect(registered.required()).toEqual(expect.arrayContaining(['event_id', 'type', 'data']));
    expect(registered.properties()!.data!.required()).toEqual(['user_id', 'role']);
    expect(registered.properties()!.data!.properties()!.role!.enum()).toEqual(['user', 'admin']);
  });

  it('has every RPC subject, answered by its owner in its queue group, marked internal', async () => {
    const { document } = parsed;
    for (const rpc of allRpcs()) {
      const channel = document!.channels().get(`rpc.${rpc.name}`);
      expect(channel?.address()).toBe(`ns1.um.rpc.${rpc.name}`);
      expect(channel?.extensions().get('x-internal')?.value()).toBe(true);
      const operation = document!.operations().get(`answer_${rpc.name.replace(/\./g, '_')}`)!;
      expect(operation.action()).toBe('receive');
      expect(
        operation
          .tags()
          .all()
          .map((t) => t.name()),
      ).toEqual(['internal']);
      expect(operation.reply()?.messages().length).toBe(1);
      expect(operation.bindings().get('nats')?.value()).toMatchObject({ queue: rpc.service === 'users' ? 'ns1_users-service' : 'ns1_auth-service' });
    }
  });

  it('holds every schema inline: no reference outside the document', () => {
    const refs = [...JSON.stringify(asyncApiDocument()).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !/^#\/(components\/messages|channels)\//.test(r))).toEqual([]);
  });
});

describe('GET /asyncapi.json', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startGateway(undefined, { namespace: 'tenant_a' });
  });
  afterAll(async () => {
    await h?.close();
  });
  const { send } = requester(() => h);

  it("serves the document with this deployment's subjects", async () => {
    const a = await send('/asyncapi.json');
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    expect(a.body.asyncapi).toBe('3.0.0');
    expect(a.body.channels.UserRegistered.address).toBe('tenant_a.um.evt.users.UserRegistered');
    expect(a.body.channels.UserRegistered['x-jetstream'].stream).toBe('tenant_a_UM_USERS_EVENTS');
  });
});
