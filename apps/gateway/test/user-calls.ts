/**
 * For tests that check what the gateway sent for one caller: callers with tokens the shared gateway
 * accepts, services that answer like the real ones (echoing the user the call is about), and the
 * check of the one call a request made.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { historyEntry, loginRpcReply, newUserId, signToken, userReply, type Answer, type Harness } from './support.js';

export interface Caller {
  id: number;
  sid: string;
  token: string;
}

export const tokens = { access_token: 'new.access.token', token_type: 'bearer', expires_in: 900, refresh_token: 'next-refresh-token' };

export const registration = {
  username: 'carol_1',
  email: 'carol@example.com',
  password: 'correct horse battery',
  fio: 'Carol Example',
  birthday: '1991-02-03',
  tags: ['x'],
};

/** `caller`, `services` and `expectCall` over the gateway `h`. */
export function userCalls(h: Harness) {
  async function caller(role: 'user' | 'admin' = 'user'): Promise<Caller> {
    const id = newUserId();
    const sid = randomUUID();
    return { id, sid, token: await signToken(h.key, { sub: String(id), sid, role }) };
  }

  /** Answers like the services would, echoing the user the call is about. */
  function services(rpc: string, input: any): unknown {
    switch (rpc) {
      case 'users.get':
      case 'users.update':
      case 'users.delete':
        return userReply(input.user_id, input.changes?.fio ? { config: { fio: input.changes.fio, birthday: '1990-01-02', tags: [] } } : {});
      case 'users.set_role':
        return userReply(input.user_id, { role: input.role });
      case 'users.history':
        return [historyEntry(), historyEntry({ type: 'UserRegistered', version: 1, changes: undefined })];
      case 'users.register':
        return userReply(newUserId(), { role: input.role ?? 'user' });
      case 'auth.login':
        return loginRpcReply();
      case 'auth.refresh':
        return tokens;
      case 'auth.logout':
        return { sessions_ended: input.all ? 3 : 1 };
      case 'auth.change_password':
        return { status: 'changed', sessions_ended: 2 };
      case 'auth.jwks':
        return { keys: [h.key.jwk] };
      default:
        throw new Error(`unexpected rpc ${rpc}`);
    }
  }

  /** The one call the request made: its rpc, input, and the request's id and caller as meta. */
  function expectCall(a: Answer, rpc: string, input: unknown, actor: Caller | null) {
    // The caller travels as the x-actor-id header (the id in decimal) with their access token, which the service verifies.
    const caller = actor === null ? { actorId: null } : { actorId: String(actor.id), accessToken: actor.token };
    // Writes carry an idempotency key (the client's, or one made for the request); reads none.
    const key = ['users.get', 'users.list', 'users.search', 'users.history', 'auth.jwks'].includes(rpc) ? {} : { idempotencyKey: expect.any(String) };
    expect(h.rpc.calls).toEqual([{ rpc, input, meta: { requestId: a.headers.get('x-request-id'), ...caller, ...key } }]);
  }

  return { caller, services, expectCall };
}
