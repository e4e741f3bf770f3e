import { describe, expect, it } from 'vitest';
import { ChangePasswordBody, Login } from './auth/requests.js';
import { RegisterUser, SearchUsers } from './users/requests.js';

const valid = { username: 'alice_1', email: 'a@example.com', password: 'password1', fio: 'Alice', birthday: '1990-01-01', tags: ['a'] };
const fieldsOf = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) => (r.error?.issues ?? []).map((i) => i.path.join('.'));

describe('control characters (Postgres refuses NUL; bcrypt stops at it)', () => {
  it('are refused in every free-text field of a registration', () => {
    expect(fieldsOf(RegisterUser.safeParse({ ...valid, fio: 'A\u0000B' }))).toEqual(['fio']);
    expect(fieldsOf(RegisterUser.safeParse({ ...valid, fio: 'A\u0007B' }))).toEqual(['fio']);
    expect(fieldsOf(RegisterUser.safeParse({ ...valid, tags: ['ok', 'b\u0000d'] }))).toEqual(['tags']);
    expect(fieldsOf(RegisterUser.safeParse({ ...valid, password: 'password\u00001' }))).toEqual(['password']);
    expect(fieldsOf(RegisterUser.safeParse({ ...valid, username: 'alice\u0000_1' }))).toEqual(['username']);
    expect(RegisterUser.safeParse(valid).success).toBe(true);
  });

  it('are refused in logins, password changes and search filters', () => {
    expect(fieldsOf(Login.safeParse({ username: '\u0000', password: 'x' }))).toEqual(['username']);
    expect(fieldsOf(Login.safeParse({ username: 'alice', password: 'pw\u0000' }))).toEqual(['password']);
    expect(fieldsOf(ChangePasswordBody.safeParse({ current_password: 'old\u0000', new_password: 'new password' }))).toEqual(['current_password']);
    expect(fieldsOf(SearchUsers.safeParse({ fio: '\u0000' }))).toEqual(['fio']);
    expect(fieldsOf(SearchUsers.safeParse({ username: 'a\u0000', email: 'b\u0000' })).sort()).toEqual(['email', 'username']);
  });
});
