import { allRpcs, RpcReply, rpcSubject, type Rpc } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import { authEndpoints } from '@um/auth-service/dist/endpoints.js';
import { buildRoutes } from '@um/gateway/dist/http/routes.js';
import { infrastructureRpcs } from '@um/gateway/dist/readiness.js';
import { usersEndpoints } from '@um/users-service/dist/endpoints.js';
import { testInfra } from '@um/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System } from './harness.js';

const handlers: Record<Rpc['service'], Rpc[]> = {
  users: usersEndpoints.map((e: { rpc: Rpc }) => e.rpc),
  auth: authEndpoints.map((e: { rpc: Rpc }) => e.rpc),
};
const called: Rpc[] = [...buildRoutes().flatMap((r: { rpc: Rpc; alsoRpcs?: readonly Rpc[] }) => [r.rpc, ...(r.alsoRpcs ?? [])]), ...infrastructureRpcs];

describe('contracts between the gateway and the services', () => {
  it('every RPC the gateway calls is handled by its owning service with the very same schemas', () => {
    expect(called.length).toBeGreaterThanOrEqual(8);
    for (const rpc of called) {
      const handler = handlers[rpc.service].find((h) => h.name === rpc.name);
      expect(handler, `${rpc.name} has no handler in ${rpc.service}`).toBeDefined();
      expect(handler!.request).toBe(rpc.request);
      expect(handler!.reply).toBe(rpc.reply);
    }
  });

  it('every contract RPC has exactly one handler, in the service that owns it', () => {
    for (const rpc of allRpcs()) {
      const owners = Object.entries(handlers).filter(([, list]) => list.some((h) => h.name === rpc.name));
      expect(
        owners.map(([s]) => s),
        rpc.name,
      ).toEqual([rpc.service]);
    }
  });

  describe('on the wire', () => {
    let sys: System;
    beforeAll(async () => {
      sys = await System.start();
    });
    afterAll(() => sys?.stop());

    it('each subject the gateway calls is answered with a typed envelope', async () => {
      const nc = await connect({ servers: testInfra().natsUrl });
      try {
        for (const rpc of called) {
          const msg = await nc.request(rpcSubject(sys.namespace, rpc.name), JSON.stringify({}), { timeout: 3000 });
          const reply = RpcReply(rpc.reply).safeParse(msg.json());
          expect(reply.success, `${rpc.name}: ${msg.string()}`).toBe(true);
          // An empty request is either valid for the call or refused as invalid, never an internal error.
          if (reply.success && !reply.data.ok) expect(['invalid_argument', 'unauthenticated'], rpc.name).toContain(reply.data.error.code);
        }
        const garbage = await nc.request(rpcSubject(sys.namespace, called[0]!.name), 'not json', { timeout: 3000 });
        expect(garbage.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      } finally {
        await nc.close();
      }
    });
  });
});
