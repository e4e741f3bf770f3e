/**
 * One's own new email takes effect only from the link sent to it; the old address gets a link that
 * cancels the change (or takes the address back) and refuses every token; reset links die with the
 * address or the password they were sent for; a factor enrolled just before a reset goes with it.
 */
import { RegisterUser } from '@um/contracts';
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../src/application/credentials.js';
import { cancelEmailChange, confirmEmailChange, issueEmailChange } from '../src/application/email-change.js';
import { userHistory } from '../src/application/history.js';
import { confirmTotp, startTotp } from '../src/application/mfa.js';
import { issuePasswordReset, resetPassword } from '../src/application/password-reset.js';
import { getUser } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { updateUser } from '../src/application/update-user.js';
import { as, confirmedUser, meta, newUser, rejection, requestReset, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

/** The user asks for a new address; the event id mail-service is handed. */
async function requestChange(userId: number, email: string): Promise<string> {
  await updateUser(fx.deps, { user_id: userId, changes: { email } }, as(userId));
  const requested = (await userHistory(fx.deps, userId, as(userId))).find((e) => e.type === 'EmailChangeRequested');
  if (!requested) throw new Error('no EmailChangeRequested recorded');
  return requested.event_id;
}

async function links(eventId: string) {
  const issued = await issueEmailChange(fx.deps, eventId);
  if (issued.status !== 'issued') throw new Error(`expected links, got ${issued.status}`);
  return issued;
}

async function resetLink(userId: number): Promise<string> {
  const issued = await issuePasswordReset(fx.deps, await requestReset(fx.deps, userId));
  if (issued.status !== 'issued') throw new Error(`expected a reset link, got ${issued.status}`);
  return issued.token;
}

describe("one's own address change", () => {
  it('changes nothing until the link sent to the new address is followed; then the new address is verified', async () => {
    const user = await confirmedUser(fx.deps);
    const newEmail = `moved_${user.id}@example.com`;
    const reply = await updateUser(fx.deps, { user_id: user.id, changes: { email: newEmail, fio: 'New Name' } }, as(user.id));
    expect(reply).toMatchObject({ email: user.email, email_verified: true, config: { fio: 'New Name' } });
    const eventId = (await userHistory(fx.deps, user.id, as(user.id))).find((e) => e.type === 'EmailChangeRequested')!.event_id;
    const issued = await links(eventId);
    expect(issued).toMatchObject({ old_email: user.email, new_email: newEmail });
    expect(await confirmEmailChange(fx.deps, issued.confirm_token, meta)).toEqual({ status: 'confirmed' });
    expect(await getUser(fx.pool, user.id)).toMatchObject({ email: newEmail, email_verified: true });
    // single use
    expect((await rejection(confirmEmailChange(fx.deps, issued.confirm_token, meta))).id).toBe('users.email_change_link_invalid');
  });

  it('answers alike whether or not the new address is taken; a taken one gets no links', async () => {
    const owner = await confirmedUser(fx.deps);
    const user = await confirmedUser(fx.deps);
    const reply = await updateUser(fx.deps, { user_id: user.id, changes: { email: owner.email } }, as(user.id));
    expect(reply.email).toBe(user.email);
    const eventId = (await userHistory(fx.deps, user.id, as(user.id))).find((e) => e.type === 'EmailChangeRequested')!.event_id;
    expect(await issueEmailChange(fx.deps, eventId)).toEqual({ status: 'taken', new_email: owner.email });
  });

  it('a newer request replaces the older one: its links stop working', async () => {
    const user = await confirmedUser(fx.deps);
    const first = await links(await requestChange(user.id, `first_${user.id}@example.com`));
    const second = await requestChange(user.id, `second_${user.id}@example.com`);
    expect((await rejection(confirmEmailChange(fx.deps, first.confirm_token, meta))).id).toBe('users.email_change_link_invalid');
    expect((await rejection(cancelEmailChange(fx.deps, first.cancel_token, meta))).id).toBe('users.email_change_link_invalid');
    await confirmEmailChange(fx.deps, (await links(second)).confirm_token, meta);
    expect((await getUser(fx.pool, user.id)).email).toBe(`second_${user.id}@example.com`);
  });

  it('is limited per account, whatever the addresses', async () => {
    const user = await confirmedUser(fx.deps);
    for (let i = 0; i < fx.deps.emailChange.limit; i++) await updateUser(fx.deps, { user_id: user.id, changes: { email: `try${i}_${user.id}@example.com` } }, as(user.id));
    const refused = await rejection(updateUser(fx.deps, { user_id: user.id, changes: { email: `more_${user.id}@example.com` } }, as(user.id)));
    expect(refused.id).toBe('users.email_change_rate_limited');
  });

  it("an admin's change of another user's address applies at once, unverified", async () => {
    const user = await confirmedUser(fx.deps);
    // `meta` is the service itself, which acts as an admin would.
    const changed = await updateUser(fx.deps, { user_id: user.id, changes: { email: `by_admin_${user.id}@example.com` } }, meta);
    expect(changed).toMatchObject({ email: `by_admin_${user.id}@example.com`, email_verified: false });
  });
});

describe('cancel from the old address', () => {
  it('before it was confirmed: the change never happens and every token of the user is refused', async () => {
    const user = await confirmedUser(fx.deps);
    const issued = await links(await requestChange(user.id, `thief_${user.id}@example.com`));
    fx.revocations.length = 0;
    expect(await cancelEmailChange(fx.deps, issued.cancel_token, meta)).toEqual({ user_id: user.id, reverted: false });
    expect((await rejection(confirmEmailChange(fx.deps, issued.confirm_token, meta))).id).toBe('users.email_change_link_invalid');
    expect((await getUser(fx.pool, user.id)).email).toBe(user.email);
    const [revoked] = fx.revocations;
    expect(revoked?.[0]).toBe(user.id);
    // every token signed so far is below the version the cancel committed
    expect(revoked![1]).toBeGreaterThan((await userHistory(fx.deps, user.id, meta)).find((e) => e.type === 'EmailChangeRequested')!.version);
  });

  it('after it was confirmed: the old address comes back, verified, and the thief’s reset link dies', async () => {
    const user = await confirmedUser(fx.deps);
    const thief = `thief2_${user.id}@example.com`;
    const issued = await links(await requestChange(user.id, thief));
    await confirmEmailChange(fx.deps, issued.confirm_token, meta);
    const stolenReset = await resetLink(user.id);
    expect(await cancelEmailChange(fx.deps, issued.cancel_token, meta)).toEqual({ user_id: user.id, reverted: true });
    expect(await getUser(fx.pool, user.id)).toMatchObject({ email: user.email, email_verified: true });
    expect((await rejection(resetPassword(fx.deps, stolenReset, 'the thief wins now', meta))).id).toBe('users.reset_link_invalid');
    const history = await userHistory(fx.deps, user.id, meta);
    expect(history[0]).toMatchObject({ type: 'EmailChangeCancelled' });
    // once only
    expect((await rejection(cancelEmailChange(fx.deps, issued.cancel_token, meta))).id).toBe('users.email_change_link_invalid');
  });
});

describe('reset links are bound to what they were sent for', () => {
  it('go only to a verified address: an unconfirmed one is told to confirm it first', async () => {
    const user = await registerUser(fx.deps, RegisterUser.parse(newUser()), meta);
    expect(await issuePasswordReset(fx.deps, await requestReset(fx.deps, user.id))).toEqual({ status: 'unverified', user_id: user.id, email: user.email });
  });

  it('die when the password is changed', async () => {
    const user = await confirmedUser(fx.deps);
    const token = await resetLink(user.id);
    await setPassword(fx.deps, user.id, 'a changed passphrase 9', as(user.id));
    expect((await rejection(resetPassword(fx.deps, token, 'an attackers passphrase', meta))).id).toBe('users.reset_link_invalid');
  });

  it('die when the address changes', async () => {
    const user = await confirmedUser(fx.deps);
    const token = await resetLink(user.id);
    await confirmEmailChange(fx.deps, (await links(await requestChange(user.id, `elsewhere_${user.id}@example.com`))).confirm_token, meta);
    expect((await rejection(resetPassword(fx.deps, token, 'an attackers passphrase', meta))).id).toBe('users.reset_link_invalid');
  });
});

describe('a second factor and a reset by email link', () => {
  const factorActive = async (userId: number) => (await fx.pool.query('SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId])).rowCount === 1;

  async function enrol(userId: number, confirmedAt: Date) {
    const { secret } = await startTotp(fx.deps, userId);
    await confirmTotp(fx.deps, userId, authenticator.generate(secret), as(userId));
    await fx.pool.query('UPDATE mfa_totp SET confirmed_at = $2 WHERE user_id = $1', [userId, confirmedAt]);
  }

  it('a factor enrolled within MFA_TRUST_AFTER goes with the reset, recorded as removed by it', async () => {
    const user = await confirmedUser(fx.deps);
    await enrol(user.id, new Date(Date.now() - 60_000));
    await resetPassword(fx.deps, await resetLink(user.id), 'a fresh passphrase 77', meta);
    expect(await factorActive(user.id)).toBe(false);
    expect((await userHistory(fx.deps, user.id, meta)).find((e) => e.type === 'MfaDisabled')).toBeDefined();
  });

  it('an older factor survives the reset and is still asked for', async () => {
    const user = await confirmedUser(fx.deps);
    await enrol(user.id, new Date(Date.now() - (fx.deps.mfaTrustAfterSeconds + 3600) * 1000));
    await resetPassword(fx.deps, await resetLink(user.id), 'a fresh passphrase 78', meta);
    expect(await factorActive(user.id)).toBe(true);
  });
});
