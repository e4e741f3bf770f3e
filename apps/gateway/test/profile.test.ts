import { buildProfile, parseProfileSchema } from '@um/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, requester, signToken, startGateway, userReply, type Harness } from './support.js';

/** A deployment declaring one attribute of each visibility, two of them searchable. */
const profile = buildProfile(
  parseProfileSchema({
    attributes: {
      phone: { type: 'phone', searchable: true, visibility: 'self' },
      department: { type: 'enum', values: ['sales', 'it'], searchable: true, required: true },
      risk_note: { type: 'text', visibility: 'admin', max_length: 20 },
    },
  }),
);

const ME = 17;
const OTHER = 22;
const config = { fio: 'Some One', birthday: '1990-01-02', tags: [], phone: '+1 555 0100', department: 'it', risk_note: 'watch' };
const me = userReply(ME, { config });
const other = userReply(OTHER, { username: 'other_1', email: 'o@example.com', config });

let h: Harness;
const { send, postJson } = requester(() => h);
let token = '';
let adminToken = '';
beforeAll(async () => {
  h = await startGateway(undefined, { directory: { scope: 'all', fields: 'full', profile } });
  token = await signToken(h.key, { sub: String(ME) });
  adminToken = await signToken(h.key, { sub: '33', role: 'admin' });
});
afterAll(() => h?.close());
beforeEach(() => {
  h.rpc.reset();
  h.rpc.reply = (rpc, input: any) => {
    if (rpc === 'users.search' || rpc === 'users.list') return { items: [me, other], total: 2 };
    if (rpc === 'users.get') return [me, other].find((u) => u.id === input.user_id);
    if (rpc === 'users.register') return userReply(44, { config: { ...config, ...input.attributes } });
    throw new Error(`unexpected rpc ${rpc}`);
  };
});

const registration = { username: 'alice_1', email: 'alice@example.com', password: 'correct horse battery', fio: 'Alice', birthday: '1990-01-02' };

describe('a declared profile schema', () => {
  it('validates declared attributes at registration and forwards them apart from the built-ins', async () => {
    const missing = await postJson('/register', registration);
    expectProblem(missing, 422, 'invalid_argument');
    expect(missing.body.errors).toEqual([{ field: 'department', message: 'is required' }]);
    const bad = await postJson('/register', { ...registration, department: 'hr', phone: 'call me' });
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['department', 'phone']);
    expect(h.rpc.calls).toEqual([]);

    const ok = await postJson('/register', { ...registration, department: 'sales', phone: ' +1 555 0100 ' });
    expect(ok.status, ok.text).toBe(201);
    expect(h.rpc.calls[0]!.input).toMatchObject({ username: 'alice_1', attributes: { department: 'sales', phone: '+1 555 0100' } });
    expect(h.rpc.calls[0]!.input).not.toHaveProperty('department');
  });

  it('shows each attribute only to whom its visibility allows', async () => {
    const mine = (await send('/users/me', { token })).body;
    expect(mine.config).toMatchObject({ phone: '+1 555 0100', department: 'it' });
    expect(mine.config).not.toHaveProperty('risk_note');
    const theirs = (await send(`/users/${OTHER}`, { token })).body;
    expect(theirs.config).toEqual({ fio: 'Some One', birthday: '1990-01-02', tags: [], department: 'it' });
    const asAdmin = (await send(`/users/${OTHER}`, { token: adminToken })).body;
    expect(asAdmin.config).toEqual(config);
  });

  it('searches searchable attributes; a hidden one only for admins; others are ignored like any unknown parameter', async () => {
    const a = await send('/users/search?department=it', { token });
    expect(a.status, a.text).toBe(200);
    expect(h.rpc.calls[0]!.input).toMatchObject({ attributes: { department: 'it' } });
    expect(a.body.map((u: { config: object }) => u.config)).toEqual(
      [
        { ...config, risk_note: undefined },
        { ...config, phone: undefined, risk_note: undefined },
      ].map((c) => JSON.parse(JSON.stringify(c))),
    );
    expectProblem(await send('/users/search?phone=555', { token }), 403, 'permission_denied');
    expect((await send('/users/search?phone=555', { token: adminToken })).status).toBe(200);
    expectProblem(await send('/users/search?department=hr', { token }), 422, 'invalid_argument');
  });

  it('documents the declared attributes in the API document', async () => {
    const doc = (await send('/openapi.json')).body;
    const body = doc.paths['/register'].post.requestBody.content['application/json'].schema;
    expect(body.properties.department).toMatchObject({ enum: ['sales', 'it'] });
    expect(body.required).toContain('department');
    expect(doc.paths['/users/search'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['phone', 'department']));
  });
});
