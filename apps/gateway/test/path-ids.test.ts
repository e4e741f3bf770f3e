/** Path ids: positive integers up to 2^53 - 1 in plain decimal; anything else names nothing (404). */
import { describe, expect, it } from 'vitest';
import { policy } from '../src/access/policy.js';
import { aliases } from '../src/http/routes.js';
import { allProtected, replyByRpc, routeRequester } from './route-requests.js';
import { expectProblem, requester, signToken, useGateway } from './support.js';
import { userCalls } from './user-calls.js';

const h = useGateway();
const { send } = requester(() => h);
const { requestOf } = routeRequester(send);
const { caller, services } = userCalls(h);

describe('path ids: positive integers up to 2^53 - 1, anything else names nothing', () => {
  const idRoutes = Object.entries(allProtected).filter(([route]) => route.includes(':user_id'));
  const outOfRange = ['0', '-1', '0042', '+42', '4.2', '4e2', '0x2a', ' 42', '42abc', 'abc', '0b9a3c1e-5f2d-4c7a-9e8b-1a2b3c4d5e6f', '9007199254740992', '18446744073709551616'];

  it('covers every /users/{id}-style route', () => {
    expect(idRoutes.map(([route]) => route).sort()).toEqual(
      [...Object.keys(policy).filter((k) => k.includes(':user_id')), ...aliases.filter((a) => a.alias.includes(':user_id')).map((a) => a.alias)].sort(),
    );
  });

  it.each(idRoutes)('%s: every malformed or out-of-range id is the same 404 for an admin, a user and an anonymous caller', async (_route, r) => {
    const bodies = new Set<string>();
    for (const id of outOfRange)
      for (const token of [await signToken(h.key, { role: 'admin' }), await signToken(h.key), undefined]) {
        const a = await requestOf(r, encodeURIComponent(id), token ? { token } : {});
        expectProblem(a, 404, 'not_found');
        const { request_id: _id, ...problem } = a.body;
        bodies.add(JSON.stringify(problem));
      }
    expect([...bodies]).toEqual([JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'User not found', code: 'not_found' })]);
    expect(h.rpc.calls).toEqual([]);
  });

  it.each(idRoutes)('%s: the smallest and the largest id are forwarded as numbers', async (_route, r) => {
    h.rpc.reply = replyByRpc;
    for (const id of [1, Number.MAX_SAFE_INTEGER]) {
      h.rpc.reset();
      h.rpc.reply = replyByRpc;
      const a = await requestOf(r, String(id), { token: await signToken(h.key, { role: 'admin' }) });
      expect(a.status, a.text).toBe(r.ok);
      expect((h.rpc.calls[0]!.input as { user_id: number }).user_id).toBe(id);
    }
  });
});

describe('self routes and ids written otherwise', () => {
  it.each([
    ['PATCH', (id: string) => `/users/${id}`, { fio: 'X' }, 200],
    ['PUT', (id: string) => `/users/${id}`, { fio: 'X' }, 200],
    ['DELETE', (id: string) => `/users/${id}`, undefined, 204],
    ['GET', (id: string) => `/users/${id}/history`, undefined, 200],
    ['POST', (id: string) => `/user_delete/${id}`, undefined, 200],
  ] as const)("%s %s with the caller's id is allowed and forwarded as the number; with a leading zero it names nothing", async (method, path, json, ok) => {
    const me = await caller();
    h.rpc.reply = services;
    const a = await send(path(String(me.id)), { method, ...(json ? { json } : {}), token: me.token });
    expect(a.status, a.text).toBe(ok);
    expect((h.rpc.calls[0]!.input as { user_id: number }).user_id).toBe(me.id);
    h.rpc.reset();
    expectProblem(await send(path(`0${me.id}`), { method, ...(json ? { json } : {}), token: me.token }), 404, 'not_found');
    expect(h.rpc.calls).toEqual([]);
  });
});
