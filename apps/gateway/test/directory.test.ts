import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectorySettings } from '../src/access/directory.js';
import { expectProblem, newUserId, requester, signToken, startGateway, userReply, type Harness } from './support.js';

const ME = newUserId();
const OTHER = newUserId();
const ADMIN = newUserId();
const me = userReply(ME, { username: 'me_user', email: 'me@example.com' });
const other = userReply(OTHER, { username: 'bob_other', email: 'bob@example.com', config: { fio: 'Bob Other', birthday: '1985-05-06', tags: ['x'] } });

/** `other` as a non-admin sees them in public mode: no email, no birthday, everything else. */
const { email: _email, ...otherWithoutEmail } = other;
const otherPublic = { ...otherWithoutEmail, config: { fio: 'Bob Other', tags: ['x'] } };

/** A gateway with `directory`, whose fake users-service knows `me` and `other`. */
function gatewayWith(directory: DirectorySettings) {
  let h: Harness;
  const tokens = { user: '', admin: '' };
  beforeAll(async () => {
    h = await startGateway(undefined, { directory });
    h.rpc.reply = (rpc, input: any) => {
      if (rpc === 'users.list' || rpc === 'users.search') return { items: [me, other], total: 2 };
      if (rpc === 'users.get') return [me, other].find((u) => u.id === input.user_id) ?? userReply(input.user_id);
      throw new Error(`unexpected rpc ${rpc}`);
    };
    tokens.user = await signToken(h.key, { sub: String(ME) });
    tokens.admin = await signToken(h.key, { sub: String(ADMIN), role: 'admin' });
  });
  afterAll(async () => {
    await h?.close();
  });
  const { send } = requester(() => h);
  return { send, tokens, calls: () => h.rpc.calls };
}

/** GET /users/{id} answers the user with spec 003's name for created_at beside it. */
const withRegistrationDate = <U extends { created_at: string }>(u: U) => ({ ...u, registration_date: u.created_at });

describe('USER_DIRECTORY=all, USER_DIRECTORY_FIELDS=full (the defaults)', () => {
  const { send, tokens } = gatewayWith({ scope: 'all', fields: 'full' });

  it('any signed-in user lists, searches and reads others in full', async () => {
    expect((await send('/users', { token: tokens.user })).body).toEqual([me, other]);
    expect((await send('/users/search?email=bob', { token: tokens.user })).body).toEqual([me, other]);
    expect((await send(`/users/${OTHER}`, { token: tokens.user })).body).toEqual(withRegistrationDate(other));
  });
});

describe('USER_DIRECTORY_FIELDS=public', () => {
  const { send, tokens } = gatewayWith({ scope: 'all', fields: 'public' });

  it('a user sees others without email and birthday in lists, search and by id', async () => {
    const list = await send('/users', { token: tokens.user });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([me, otherPublic]);
    expect(list.text).not.toContain('bob@example.com');
    expect(list.text).not.toContain('1985-05-06');
    expect((await send('/users/search?fio=Bob&username=bob', { token: tokens.user })).body).toEqual([me, otherPublic]);
    expect((await send(`/users/${OTHER}`, { token: tokens.user })).body).toEqual(withRegistrationDate(otherPublic));
  });

  it('a user always sees themselves in full', async () => {
    expect((await send('/users/me', { token: tokens.user })).body).toEqual(me);
    expect((await send(`/users/${ME}`, { token: tokens.user })).body).toEqual(withRegistrationDate(me));
    expect((await send('/users/me', { token: tokens.user })).headers.get('cache-control')).toBe('no-store');
  });

  it('an admin sees everyone in full', async () => {
    expect((await send('/users', { token: tokens.admin })).body).toEqual([me, other]);
    expect((await send(`/users/${OTHER}`, { token: tokens.admin })).body).toEqual(withRegistrationDate(other));
    expect((await send('/users/search?email=bob&birthday=1985-05-06', { token: tokens.admin })).status).toBe(200);
  });

  it.each(['email=bob%40example.com', 'birthday=1985-05-06', 'email=b&fio=Bob'])('a user cannot search by a hidden field: ?%s → 403', async (q) => {
    const a = await send(`/users/search?${q}`, { token: tokens.user });
    expectProblem(a, 403, 'permission_denied');
    expect(a.body.detail).toMatch(/Only admins can search by (email|birthday)/);
  });
});

describe('USER_DIRECTORY=admins', () => {
  const { send, tokens, calls } = gatewayWith({ scope: 'admins', fields: 'full' });

  it('a user cannot list, search or read another user, and the service is not asked', async () => {
    const before = calls().length;
    for (const path of ['/users', '/users/search?username=bob', `/users/${OTHER}`]) expectProblem(await send(path, { token: tokens.user }), 403, 'permission_denied');
    expect(calls().length).toBe(before);
  });

  it('a user still reads themselves', async () => {
    expect((await send('/users/me', { token: tokens.user })).body).toEqual(me);
    expect((await send(`/users/${ME}`, { token: tokens.user })).body).toEqual(withRegistrationDate(me));
    expect((await send('/users/me', { token: tokens.user })).status).toBe(200);
  });

  it('an admin lists, searches and reads anyone', async () => {
    expect((await send('/users', { token: tokens.admin })).body).toEqual([me, other]);
    expect((await send('/users/search?email=bob', { token: tokens.admin })).status).toBe(200);
    expect((await send(`/users/${OTHER}`, { token: tokens.admin })).body).toEqual(withRegistrationDate(other));
  });

  it('without a token is still 401', async () => {
    expectProblem(await send('/users'), 401);
  });
});
