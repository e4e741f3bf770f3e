import { RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { confirmEmail, issueEmailConfirmation } from '../src/application/email-confirmation.js';
import { emailChange, userHistory } from '../src/application/history.js';
import { getUser } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { setRole, updateUser } from '../src/application/update-user.js';
import { as, meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = (overrides: Record<string, unknown> = {}) => registerUser(fx.deps, RegisterUser.parse(newUser(overrides)), meta);
const admin = () => registerUser(fx.deps, { ...RegisterUser.parse(newUser()), role: 'admin' }, meta);
const streamVersion = async (userId: number) =>
  (await fx.pool.query<{ v: number }>('SELECT max(stream_version)::int AS v FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1)', [userId])).rows[0]!.v;

/** Confirm a user's current address with a fresh link. */
async function confirmAddress(email: string) {
  const issued = await issueEmailConfirmation(fx.deps, email);
  if (issued.status !== 'issued') throw new Error('expected a link');
  return confirmEmail(fx.deps, issued.token, meta);
}

describe('updateUser', () => {
  it('changes the profile and records each changed field with before and after, nothing for unchanged ones', async () => {
    const user = await register({ fio: 'Old Name', tags: ['a'] });
    const updated = await updateUser(fx.deps, { user_id: user.id, changes: { fio: 'New Name', tags: ['a'], birthday: '1991-02-03' } }, as(user.id));
    expect(updated).toMatchObject({ id: user.id, config: { fio: 'New Name', tags: ['a'], birthday: '1991-02-03' } });
    expect(await getUser(fx.pool, user.id)).toEqual(updated);
    const [last] = await userHistory(fx.deps, user.id, as(user.id));
    expect(last).toMatchObject({
      type: 'UserProfileUpdated',
      version: 2,
      actor_id: user.id,
      changes: { fio: { from: 'Old Name', to: 'New Name' }, birthday: { from: '1990-05-17', to: '1991-02-03' } },
    });
    expect(Object.keys(last!.changes!).sort()).toEqual(['birthday', 'fio']);
  });

  it('records no event when nothing changes', async () => {
    const user = await register();
    await expect(updateUser(fx.deps, { user_id: user.id, changes: { fio: user.config.fio } }, as(user.id))).resolves.toEqual(user);
    expect(await streamVersion(user.id)).toBe(1);
  });

  it("refuses a username another user holds, and an admin's change to an email another user holds, with 409 naming the field, and records nothing", async () => {
    const [holder, user, boss] = [await register(), await register(), await admin()];
    const name = await rejection(updateUser(fx.deps, { user_id: user.id, changes: { username: holder.username.toUpperCase() } }, as(user.id)));
    expect(name).toMatchObject({ code: 'already_exists', id: 'users.username_taken', fields: [{ field: 'username', message: 'is already taken' }] });
    // One's own new email is only asked for (see email-change.test.ts): the reply does not tell whether it is taken.
    const email = await rejection(updateUser(fx.deps, { user_id: user.id, changes: { email: holder.email } }, as(boss.id)));
    expect(email).toMatchObject({ code: 'already_exists', id: 'users.email_taken', fields: [{ field: 'email', message: 'is already taken' }] });
    expect(await streamVersion(user.id)).toBe(1);
    expect(await getUser(fx.pool, user.id)).toEqual(user);
  });

  it('lets a user keep their own name in another case', async () => {
    const user = await register();
    await expect(updateUser(fx.deps, { user_id: user.id, changes: { username: user.username.toUpperCase() } }, as(user.id))).resolves.toMatchObject({
      username: user.username.toUpperCase(),
    });
  });
});

describe("an admin's email change", () => {
  it('makes the new address unverified until confirmed, names old and new for the notice, and a link to the old address no longer confirms', async () => {
    const boss = await admin();
    const user = await register();
    const staleLink = await issueEmailConfirmation(fx.deps, user.email);
    if (staleLink.status !== 'issued') throw new Error('expected a link');
    await confirmAddress(user.email);
    const newEmail = `changed.${user.id}@example.com`;

    const changed = await updateUser(fx.deps, { user_id: user.id, changes: { email: newEmail } }, as(boss.id));
    expect(changed).toMatchObject({ email: newEmail, email_verified: false });
    const [update] = await userHistory(fx.deps, user.id, as(user.id));
    expect(update).toMatchObject({ type: 'UserProfileUpdated', changes: { email: { from: user.email, to: newEmail }, email_verified: { from: true, to: false } } });
    expect(await emailChange(fx.deps, update!.event_id)).toEqual({ user_id: user.id, old_email: user.email, new_email: newEmail });

    expect((await rejection(confirmEmail(fx.deps, staleLink.token, meta))).id).toBe('users.confirmation_invalid');
    expect(await confirmAddress(newEmail)).toMatchObject({ email: newEmail, email_verified: true });
  });

  it('knows no email change for an event that changed no email, or no event', async () => {
    const user = await register();
    await updateUser(fx.deps, { user_id: user.id, changes: { fio: 'Only The Name' } }, as(user.id));
    const [update, registered] = await userHistory(fx.deps, user.id, as(user.id));
    for (const eventId of [update!.event_id, registered!.event_id, '01890000-0000-7000-8000-000000000000'])
      expect((await rejection(emailChange(fx.deps, eventId))).id).toBe('users.email_change_not_found');
  });
});

describe('userHistory', () => {
  it('lists every event newest first with who acted and each change before and after', async () => {
    const boss = await admin();
    const user = await register({ fio: 'First' });
    await updateUser(fx.deps, { user_id: user.id, changes: { fio: 'Second' } }, as(user.id));
    await setRole(fx.deps, user.id, 'admin', as(boss.id));
    await confirmAddress(user.email);
    await setRole(fx.deps, user.id, 'user', as(boss.id));
    const history = await userHistory(fx.deps, user.id, as(boss.id));
    expect(history.map((e) => [e.type, e.version, e.actor_id, e.changes])).toEqual([
      ['UserRoleChanged', 5, boss.id, { role: { from: 'admin', to: 'user' } }],
      ['EmailConfirmed', 4, null, { email_verified: { from: false, to: true } }],
      ['UserRoleChanged', 3, boss.id, { role: { from: 'user', to: 'admin' } }],
      ['UserProfileUpdated', 2, user.id, { fio: { from: 'First', to: 'Second' } }],
      [
        'UserRegistered',
        1,
        null,
        {
          username: { from: null, to: user.username },
          email: { from: null, to: user.email },
          fio: { from: null, to: 'First' },
          birthday: { from: null, to: '1990-05-17' },
          tags: { from: null, to: ['alpha'] },
          role: { from: null, to: 'user' },
        },
      ],
    ]);
  });

  it('shows an erased user only as the tombstone', async () => {
    const user = await register();
    await updateUser(fx.deps, { user_id: user.id, changes: { fio: 'Soon Gone' } }, as(user.id));
    await deleteUser(fx.deps, user.id, as(user.id));
    const history = await userHistory(fx.deps, user.id, meta);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ type: 'UserDeleted', version: 3, actor_id: user.id });
    expect(history[0]).not.toHaveProperty('changes');
  });

  it('is not found for an id never given', async () => {
    expect((await rejection(userHistory(fx.deps, 2 ** 40, meta))).id).toBe('users.not_found');
  });
});
