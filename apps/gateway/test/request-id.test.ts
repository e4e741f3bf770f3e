/** X-Request-Id: echoed when valid, made otherwise, and forwarded to the services. */
import { describe, expect, it } from 'vitest';
import { validRegistration } from './route-requests.js';
import { requester, useGateway, userReply } from './support.js';

const h = useGateway();
const { send, postJson } = requester(() => h);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('X-Request-Id', () => {
  it('echoes a valid id and forwards it to the service', async () => {
    h.rpc.reply = () => userReply();
    const id = 'client-req_42:a.b@c';
    const a = await postJson('/register', validRegistration, { headers: { 'x-request-id': id } });
    expect(a.status).toBe(201);
    expect(a.headers.get('x-request-id')).toBe(id);
    expect(h.rpc.calls[0]!.meta.requestId).toBe(id);
  });

  it('accepts 128 characters', async () => {
    const id = 'r'.repeat(128);
    const a = await send('/healthz', { headers: { 'x-request-id': id } });
    expect(a.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['spaces', 'has spaces in it'],
    ['300 characters', 'x'.repeat(300)],
    ['129 characters', 'x'.repeat(129)],
    ['a slash', 'a/b'],
    ['quotes', '"abc"'],
  ])('replaces an id with %s by a generated one', async (_label, id) => {
    h.rpc.reply = () => userReply();
    const a = await postJson('/register', validRegistration, { headers: { 'x-request-id': id } });
    const got = a.headers.get('x-request-id');
    expect(got).not.toBe(id);
    expect(got).toMatch(UUID_RE);
    expect(h.rpc.calls[0]!.meta.requestId).toBe(got);
  });

  it('generates a distinct id per request when none is given', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await send('/healthz')).headers.get('x-request-id')));
    for (const id of ids) expect(id).toMatch(UUID_RE);
    expect(new Set(ids).size).toBe(3);
  });

  it('is quoted in problem bodies', async () => {
    const a = await send('/nope', { headers: { 'x-request-id': 'quote-me' } });
    expect(a.body.request_id).toBe('quote-me');
  });
});
