import { describe, expect, it } from 'vitest';
import { decide, isRejection } from './decide.js';
import { fold } from './user.js';

const id = 1;
const registered = {
  type: 'UserRegistered' as const,
  data: { user_id: id, username: 'alice_1', email: 'a@example.com', fio: 'A', birthday: '1990-01-01', tags: [], role: 'user' as const },
};

describe('decide', () => {
  it('registers a new user once', () => {
    const events = decide({ type: 'RegisterUser', data: registered.data }, fold([]));
    expect(events).toEqual([registered]);
    const again = decide({ type: 'RegisterUser', data: registered.data }, fold([registered]));
    expect(isRejection(again) && again.reason).toBe('already_exists');
  });

  it('deletes an active user and refuses unknown or deleted ones', () => {
    expect(decide({ type: 'DeleteUser', data: { user_id: id } }, fold([registered]))).toEqual([{ type: 'UserDeleted', data: { user_id: id } }]);
    const unknown = decide({ type: 'DeleteUser', data: { user_id: id } }, fold([]));
    expect(isRejection(unknown) && unknown.reason).toBe('not_found');
    const deleted = decide({ type: 'DeleteUser', data: { user_id: id } }, fold([registered, { type: 'UserDeleted', data: { user_id: id } }]));
    expect(isRejection(deleted) && deleted.reason).toBe('not_found');
  });

  it('changes a role only when it differs', () => {
    expect(decide({ type: 'ChangeRole', data: { user_id: id, role: 'admin' } }, fold([registered]))).toEqual([{ type: 'UserRoleChanged', data: { user_id: id, role: 'admin' } }]);
    expect(decide({ type: 'ChangeRole', data: { user_id: id, role: 'user' } }, fold([registered]))).toEqual([]);
  });

  it('folds role changes into state', () => {
    const state = fold([registered, { type: 'UserRoleChanged', data: { user_id: id, role: 'admin' } }]);
    expect(state).toMatchObject({ status: 'active', id, role: 'admin', emailVerified: false, profile: { username: 'alice_1' } });
  });
});

describe('email confirmation', () => {
  const confirmed = { type: 'EmailConfirmed' as const, data: { user_id: id } };

  it('confirms once; confirming again changes nothing', () => {
    expect(decide({ type: 'ConfirmEmail', data: { user_id: id } }, fold([registered]))).toEqual([confirmed]);
    expect(decide({ type: 'ConfirmEmail', data: { user_id: id } }, fold([registered, confirmed]))).toEqual([]);
  });

  it('asks for a new link only while unverified', () => {
    expect(decide({ type: 'RequestEmailConfirmation', data: { user_id: id } }, fold([registered]))).toEqual([{ type: 'EmailConfirmationRequested', data: { user_id: id } }]);
    const verified = decide({ type: 'RequestEmailConfirmation', data: { user_id: id } }, fold([registered, confirmed]));
    expect(isRejection(verified) && verified.reason).toBe('already_exists');
  });

  it('ignores erased events when folding', () => {
    expect(fold([undefined, { type: 'UserDeleted', data: { user_id: id } }])).toEqual({ status: 'deleted', id });
  });
});

describe('profile updates', () => {
  it('records only the fields that really change, with before and after', () => {
    const events = decide({ type: 'UpdateProfile', data: { user_id: id, changes: { fio: 'A', email: 'new@example.com', tags: [] } } }, fold([registered]));
    expect(events).toEqual([{ type: 'UserProfileUpdated', data: { user_id: id, fields: ['email'], changes: { email: { from: 'a@example.com', to: 'new@example.com' } } } }]);
    expect(decide({ type: 'UpdateProfile', data: { user_id: id, changes: { fio: 'A' } } }, fold([registered]))).toEqual([]);
  });

  it('makes a changed email unverified again', () => {
    const confirmed = { type: 'EmailConfirmed' as const, data: { user_id: id } };
    const updated = { type: 'UserProfileUpdated' as const, data: { user_id: id, fields: ['email'], changes: { email: { from: 'a@example.com', to: 'b@example.com' } } } };
    expect(fold([registered, confirmed, updated])).toMatchObject({ emailVerified: false, profile: { email: 'b@example.com' } });
  });
});
