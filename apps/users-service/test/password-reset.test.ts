import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSubject } from '../src/application/auth-lookups.js';
import { deleteUser } from '../src/application/delete-user.js';
import { userHistory } from '../src/application/history.js';
import { issuePasswordReset, resetPassword } from '../src/application/password-reset.js';
import { confirmedUser, meta, rejection, requestReset, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = () => confirmedUser(fx.deps);

describe('issuePasswordReset', () => {
  it("issues a link for the user's latest request only, to the current address", async () => {
    const user = await register();
    const older = await requestReset(fx.deps, user.id);
    const latest = await requestReset(fx.deps, user.id);
    expect(await issuePasswordReset(fx.deps, older)).toEqual({ status: 'superseded' });
    const issued = await issuePasswordReset(fx.deps, latest);
    expect(issued).toMatchObject({ status: 'issued', user_id: user.id, email: user.email });
  });

  it('answers superseded for a deleted user, and not found for an event that is no reset request', async () => {
    const user = await register();
    const request = await requestReset(fx.deps, user.id);
    const [registered] = await userHistory(fx.deps, user.id, meta).then((h) => h.slice(-1));
    await deleteUser(fx.deps, user.id, meta);
    expect(await issuePasswordReset(fx.deps, request)).toEqual({ status: 'superseded' });
    expect((await rejection(issuePasswordReset(fx.deps, registered!.event_id))).id).toBe('users.reset_request_not_found');
    expect((await rejection(issuePasswordReset(fx.deps, '01890000-0000-7000-8000-000000000000'))).id).toBe('users.reset_request_not_found');
  });

  it('a reset shows in what tokens are signed from: password_reset_at is when it was recorded', async () => {
    const user = await register();
    expect(await tokenSubject(fx.pool, user.id)).toMatchObject({ user_id: user.id, password_reset_at: null });
    const issued = await issuePasswordReset(fx.deps, await requestReset(fx.deps, user.id));
    if (issued.status !== 'issued') throw new Error('expected a link');
    await resetPassword(fx.deps, issued.token, 'a brand new passphrase', meta);
    const history = await userHistory(fx.deps, user.id, meta);
    const reset = history.find((e) => e.type === 'PasswordReset')!;
    expect(reset).toBe(history[0]);
    expect(await tokenSubject(fx.pool, user.id)).toMatchObject({ authz_version: reset.version, password_reset_at: reset.occurred_at });
  });
});
