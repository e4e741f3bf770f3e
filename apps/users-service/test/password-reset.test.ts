import { RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSubject } from '../src/application/auth-lookups.js';
import { deleteUser } from '../src/application/delete-user.js';
import { handleCommand } from '../src/application/handle-command.js';
import { userHistory } from '../src/application/history.js';
import { issuePasswordReset, resetPassword } from '../src/application/password-reset.js';
import { registerUser } from '../src/application/register-user.js';
import { meta, newUser, rejection, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

/** A user whose address is confirmed: reset links go only to such an address (see email-change.test.ts). */
async function register() {
  const user = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
  await handleCommand(fx.deps, { userId: user.id }, { type: 'ConfirmEmail', data: { user_id: user.id } }, meta, { after: async () => undefined });
  return user;
}
/** Record a reset request as `POST /password/forgot` does after answering; its event id, as mail-service gets it. */
const requestReset = (userId: number) =>
  handleCommand(fx.deps, { userId }, { type: 'RequestPasswordReset', data: { user_id: userId } }, meta, { after: async (_client, stored) => stored[0]!.eventId });

describe('issuePasswordReset', () => {
  it("issues a link for the user's latest request only, to the current address", async () => {
    const user = await register();
    const older = await requestReset(user.id);
    const latest = await requestReset(user.id);
    expect(await issuePasswordReset(fx.deps, older)).toEqual({ status: 'superseded' });
    const issued = await issuePasswordReset(fx.deps, latest);
    expect(issued).toMatchObject({ status: 'issued', user_id: user.id, email: user.email });
  });

  it('answers superseded for a deleted user, and not found for an event that is no reset request', async () => {
    const user = await register();
    const request = await requestReset(user.id);
    const [registered] = await userHistory(fx.deps, user.id, meta).then((h) => h.slice(-1));
    await deleteUser(fx.deps, user.id, meta);
    expect(await issuePasswordReset(fx.deps, request)).toEqual({ status: 'superseded' });
    expect((await rejection(issuePasswordReset(fx.deps, registered!.event_id))).id).toBe('users.reset_request_not_found');
    expect((await rejection(issuePasswordReset(fx.deps, '01890000-0000-7000-8000-000000000000'))).id).toBe('users.reset_request_not_found');
  });

  it('a reset shows in what tokens are signed from: password_reset_at is when it was recorded', async () => {
    const user = await register();
    expect(await tokenSubject(fx.pool, user.id)).toMatchObject({ user_id: user.id, password_reset_at: null });
    const issued = await issuePasswordReset(fx.deps, await requestReset(user.id));
    if (issued.status !== 'issued') throw new Error('expected a link');
    await resetPassword(fx.deps, issued.token, 'a brand new passphrase', meta);
    const history = await userHistory(fx.deps, user.id, meta);
    const reset = history.find((e) => e.type === 'PasswordReset')!;
    expect(reset).toBe(history[0]);
    expect(await tokenSubject(fx.pool, user.id)).toMatchObject({ authz_version: reset.version, password_reset_at: reset.occurred_at });
  });
});
