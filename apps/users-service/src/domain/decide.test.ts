import type { UserEvent } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { decide, type Rejection, type UserCommand } from './decide.js';
import { fold, type RecordedEvent } from './user.js';

const id = 1;
const T0 = new Date('2026-01-01T00:00:00.000Z');
/** `seconds` after T0. */
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
/** An event recorded at a given time (a plain event in `given` is recorded at T0). */
const recorded = (event: UserEvent | undefined, recordedAt: Date): RecordedEvent => ({ event, recordedAt });

/** The history a command is decided on, the command, and what it must decide: events or a rejection. */
function given(history: Array<UserEvent | RecordedEvent>) {
  const state = fold(history.map((e) => ('recordedAt' in e ? e : recorded(e, T0))));
  return {
    when: (command: UserCommand) => ({
      then: (expected: UserEvent[] | Rejection) => expect(decide(command, state)).toEqual(expected),
    }),
  };
}

const registered = {
  type: 'UserRegistered' as const,
  data: { user_id: id, username: 'alice_1', email: 'a@example.com', fio: 'A', birthday: '1990-01-01', tags: [], role: 'user' as const },
};
const registeredAdmin = { ...registered, data: { ...registered.data, role: 'admin' as const } };
const deleted = { type: 'UserDeleted' as const, data: { user_id: id } };
const confirmed = { type: 'EmailConfirmed' as const, data: { user_id: id } };
const confirmationRequested = { type: 'EmailConfirmationRequested' as const, data: { user_id: id } };
const promoted = { type: 'UserRoleChanged' as const, data: { user_id: id, role: 'admin' as const } };
const emailChanged = { type: 'UserProfileUpdated' as const, data: { user_id: id, fields: ['email'], changes: { email: { from: 'a@example.com', to: 'b@example.com' } } } };

const notFound: Rejection = { reason: 'not_found', message: 'User not found' };
const register: UserCommand = { type: 'RegisterUser', data: registered.data };
const del = (otherAdmins: number): UserCommand => ({ type: 'DeleteUser', data: { user_id: id }, otherAdmins });
const changeRole = (role: 'user' | 'admin', otherAdmins = 0): UserCommand => ({ type: 'ChangeRole', data: { user_id: id, role }, otherAdmins });
const requestConfirmation = (now: Date): UserCommand => ({ type: 'RequestEmailConfirmation', data: { user_id: id }, now, resendIntervalSeconds: 60 });
const lastAdmin = (action: string): Rejection => ({
  reason: 'already_exists',
  id: 'last_admin',
  message: `The last admin cannot be ${action}; make another user an admin first`,
});
const rateLimited = (wait: number): Rejection => ({
  reason: 'resource_exhausted',
  id: 'confirmation_rate_limited',
  message: `A confirmation email was sent recently; try again in ${wait} s`,
  retryAfterSeconds: wait,
});

describe('registration and deletion', () => {
  it('registers a new user', () => given([]).when(register).then([registered]));
  it('refuses a second registration of the same id', () => given([registered]).when(register).then({ reason: 'already_exists', message: 'A user with this id already exists' }));
  it('deletes an active user', () => given([registered]).when(del(0)).then([deleted]));
  it('refuses to delete an unknown user', () => given([]).when(del(1)).then(notFound));
  it('refuses to delete a deleted user', () => given([registered, deleted]).when(del(1)).then(notFound));
  it('skips erased events: a tombstone after them is still a deleted user', () =>
    given([recorded(undefined, T0), deleted])
      .when(del(1))
      .then(notFound));
});

describe('roles and the last admin', () => {
  it('makes a user an admin', () => given([registered]).when(changeRole('admin')).then([promoted]));
  it('records nothing when the role does not change', () => given([registered]).when(changeRole('user')).then([]));
  it('folds role changes: a promoted user is an admin', () => given([registered, promoted]).when(changeRole('admin')).then([]));
  it('refuses to demote the last admin (demoting themself too)', () => given([registeredAdmin]).when(changeRole('user', 0)).then(lastAdmin('demoted')));
  it('demotes an admin while another admin remains', () =>
    given([registeredAdmin])
      .when(changeRole('user', 1))
      .then([{ type: 'UserRoleChanged', data: { user_id: id, role: 'user' } }]));
  it('refuses to delete the last admin (deleting themself too)', () => given([registeredAdmin]).when(del(0)).then(lastAdmin('deleted')));
  it('deletes an admin while another admin remains', () => given([registeredAdmin]).when(del(1)).then([deleted]));
  it('deletes a user who is no admin, whatever the count of admins', () => given([registered]).when(del(0)).then([deleted]));
  it('a promoted user is an admin for the rule too', () => given([registered, promoted]).when(del(0)).then(lastAdmin('deleted')));
});

describe('email confirmation', () => {
  it('confirms an unverified address', () =>
    given([registered])
      .when({ type: 'ConfirmEmail', data: { user_id: id } })
      .then([confirmed]));
  it('confirming again changes nothing', () =>
    given([registered, confirmed])
      .when({ type: 'ConfirmEmail', data: { user_id: id } })
      .then([]));
  it('refuses a new link for a confirmed address, before any rate limit', () =>
    given([registered, confirmed]).when(requestConfirmation(T0)).then({ reason: 'already_exists', message: 'The email address is already confirmed' }));
  it('a changed email is unverified again', () =>
    given([registered, confirmed, emailChanged])
      .when(requestConfirmation(at(60)))
      .then([confirmationRequested]));
  it('refuses a resend within the interval after registration, with the seconds left', () =>
    given([registered])
      .when(requestConfirmation(at(45)))
      .then(rateLimited(15)));
  it('rounds the seconds left up', () =>
    given([registered])
      .when(requestConfirmation(at(59.5)))
      .then(rateLimited(1)));
  it('sends again exactly at the interval', () =>
    given([registered])
      .when(requestConfirmation(at(60)))
      .then([confirmationRequested]));
  it('counts the interval from the latest request', () =>
    given([registered, recorded(confirmationRequested, at(100))])
      .when(requestConfirmation(at(130)))
      .then(rateLimited(30)));
  it('sends again an interval after the latest request', () =>
    given([registered, recorded(confirmationRequested, at(100))])
      .when(requestConfirmation(at(160)))
      .then([confirmationRequested]));
  it('refuses a link for an unknown user', () => given([]).when(requestConfirmation(T0)).then(notFound));
});

describe('profile updates', () => {
  it('records only the fields that really change, with before and after', () =>
    given([registered])
      .when({ type: 'UpdateProfile', data: { user_id: id, changes: { fio: 'A', email: 'new@example.com', tags: [] } } })
      .then([{ type: 'UserProfileUpdated', data: { user_id: id, fields: ['email'], changes: { email: { from: 'a@example.com', to: 'new@example.com' } } } }]));
  it('records nothing when nothing changes', () =>
    given([registered])
      .when({ type: 'UpdateProfile', data: { user_id: id, changes: { fio: 'A' } } })
      .then([]));
  it('folds earlier updates: changing back records the update as the from', () =>
    given([registered, emailChanged])
      .when({ type: 'UpdateProfile', data: { user_id: id, changes: { email: 'a@example.com' } } })
      .then([{ type: 'UserProfileUpdated', data: { user_id: id, fields: ['email'], changes: { email: { from: 'b@example.com', to: 'a@example.com' } } } }]));
});
