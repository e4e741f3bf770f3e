import { describe, expect, it } from 'vitest';
import { AppError, toAppError } from './errors.js';

describe('AppError', () => {
  it('takes only registered ids, each with its own code (checked by the compiler)', () => {
    // @ts-expect-error an id no one registered
    expect(new AppError('not_found', 'users.no_such_id', 'x').id).toBe('users.no_such_id');
    // @ts-expect-error a registered id with another code than its own
    expect(new AppError('not_found', 'users.last_admin', 'x').code).toBe('not_found');
    // A family's id carries the code its throw site decides.
    expect(new AppError('already_exists', 'users.ConfirmEmail.already_exists', 'x').code).toBe('already_exists');
  });

  it('round-trips through the RPC error body', () => {
    const err = new AppError('resource_exhausted', 'auth.throttled', 'Too many', [{ field: 'password', message: 'slow down' }], { retryAfterSeconds: 3 });
    const back = AppError.fromBody(err.toBody());
    expect(back).toMatchObject({
      code: 'resource_exhausted',
      id: 'auth.throttled',
      message: 'Too many',
      fields: [{ field: 'password', message: 'slow down' }],
      retryAfterSeconds: 3,
    });
    expect(toAppError(new Error('boom'))).toMatchObject({ code: 'internal', id: 'internal.unexpected' });
  });
});
