import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProfile, parseProfileSchema, RegisterUserRequest, SearchUsersRequest } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userHistory } from '../src/application/history.js';
import { searchUsers } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { updateUser } from '../src/application/update-user.js';
import { ensureAttributeIndexes } from '../src/projections/attribute-indexes.js';
import { rebuildUsersProjection } from '../src/projections/users-projection.js';
import { meta, newUser, rejection, silentLog, usersFixture } from './setup.js';
import { withTransaction } from '@um/platform';

const EXAMPLE = fileURLToPath(new URL('../../../deploy/profile/example.json', import.meta.url));
const profile = buildProfile(parseProfileSchema(JSON.parse(readFileSync(EXAMPLE, 'utf8'))));

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture(profile);
});
afterAll(() => fx?.close());

const register = (overrides: Record<string, unknown>) => registerUser(fx.deps, RegisterUserRequest.parse(newUser(overrides)), meta);

describe('declared profile attributes (example schema)', () => {
  it('are validated, stored in config, changed, cleared and kept by a projection rebuild', async () => {
    const user = await register({ attributes: { phone: '+7 902 412-75-23', image_url: 'https://img.example/a.png', first_name: 'Anna' } });
    expect(user.config).toMatchObject({ phone: '+7 902 412-75-23', image_url: 'https://img.example/a.png', first_name: 'Anna' });

    const bad = await rejection(register({ attributes: { phone: 'call me', nickname: 'x' } }));
    expect(bad.code).toBe('invalid_argument');
    expect(bad.fields?.map((f) => f.field).sort()).toEqual(['nickname', 'phone']);

    const changed = await updateUser(fx.deps, { user_id: user.id, changes: { attributes: { last_name: 'Karenina', image_url: null } } }, meta);
    expect(changed.config).toMatchObject({ first_name: 'Anna', last_name: 'Karenina' });
    expect(changed.config).not.toHaveProperty('image_url');
    const history = await userHistory(fx.deps, user.id, meta);
    expect(history[0]!.changes).toEqual({ last_name: { from: null, to: 'Karenina' }, image_url: { from: 'https://img.example/a.png', to: null } });

    await withTransaction(fx.pool, (c) => rebuildUsersProjection(c));
    const { rows } = await fx.pool.query('SELECT config FROM users WHERE id = $1', [user.id]);
    expect(rows[0].config).toMatchObject({ first_name: 'Anna', last_name: 'Karenina', phone: '+7 902 412-75-23' });
  });

  it('derives a unique username from the email when none is given', async () => {
    const local = `Jo.Doe+${Date.now().toString(36)}`;
    const a = await registerUser(fx.deps, RegisterUserRequest.parse({ email: `${local}@a.example`, password: 'correct horse', attributes: {} }), meta);
    const b = await registerUser(fx.deps, RegisterUserRequest.parse({ email: `${local}@b.example`, password: 'correct horse', attributes: {} }), meta);
    const base = local.toLowerCase().replace('+', '_');
    expect(a.username).toBe(base);
    expect(b.username).toBe(`${base}_2`);
    expect(a.config).toEqual({ tags: [] });
  });

  it('searches searchable attributes with their own indexes, created again harmlessly', async () => {
    const tag = `p${Date.now()}`;
    const ann = await register({ tags: [tag], attributes: { first_name: 'Anna', phone: '+1 555 0100' } });
    await register({ tags: [tag], attributes: { first_name: 'Boris' } });
    const found = await searchUsers(fx.pool, SearchUsersRequest.parse({ tags: tag, attributes: { first_name: 'ANN' } }), profile, fx.deps.paging);
    expect(found.items.map((u) => u.id)).toEqual([ann.id]);
    expect((await searchUsers(fx.pool, SearchUsersRequest.parse({ tags: tag, attributes: { phone: '555' } }), profile, fx.deps.paging)).total).toBe(1);
    const notSearchable = await rejection(searchUsers(fx.pool, SearchUsersRequest.parse({ attributes: { image_url: 'x' } }), profile, fx.deps.paging));
    expect(notSearchable.fields).toEqual([{ field: 'image_url', message: 'is not a searchable profile attribute' }]);

    await ensureAttributeIndexes(fx.pool, profile, silentLog);
    await ensureAttributeIndexes(fx.pool, profile, silentLog);
    const { rows } = await fx.pool.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'users_attr_%' ORDER BY 1", [fx.schema]);
    expect(rows.map((r) => r.indexname)).toEqual(['users_attr_first_name_trgm', 'users_attr_last_name_trgm', 'users_attr_phone_trgm']);
  });
});
