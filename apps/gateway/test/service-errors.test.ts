/** Service errors map to HTTP statuses and problem answers. */
import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { validRegistration } from './route-requests.js';
import { expectProblem, requester, useGateway } from './support.js';

const h = useGateway();
const { postJson } = requester(() => h);

describe('service errors map to HTTP', () => {
  const cases: [string, () => Error, number][] = [
    ['already_exists', () => new AppError('already_exists', 'users.username_taken', 'The username is taken'), 409],
    ['not_found', () => new AppError('not_found', 'users.not_found', 'No such user'), 404],
    ['unavailable', () => new AppError('unavailable', 'rpc.no_responders', 'The users service is not available'), 503],
    ['timeout', () => new AppError('timeout', 'rpc.timeout', 'The users service did not answer in time'), 504],
    ['permission_denied', () => new AppError('permission_denied', 'access.forbidden', 'Not allowed'), 403],
    ['bad_request', () => new AppError('bad_request', 'rpc.payload_not_json', 'Request payload is not JSON'), 400],
    ['unauthenticated', () => new AppError('unauthenticated', 'auth.invalid_credentials', 'Wrong username or password'), 401],
  ];

  it.each(cases)('%s → %i with the service message as detail', async (code, error, status) => {
    h.rpc.reply = () => {
      throw error();
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, status, code);
    expect(a.body.detail).toBe(error().message);
    expect(a.body.errors).toBeUndefined();
    expect(h.rpc.calls).toHaveLength(1);
  });

  it('invalid_argument → 422 with the field errors', async () => {
    const fields = [
      { field: 'email', message: 'is already registered' },
      { field: 'username', message: 'is reserved' },
    ];
    h.rpc.reply = () => {
      throw new AppError('invalid_argument', 'users.invalid', 'Invalid input', fields);
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 422, 'invalid_argument');
    expect(a.body.errors).toEqual(fields);
  });

  it('resource_exhausted → 429 with Retry-After', async () => {
    h.rpc.reply = () => {
      throw new AppError('resource_exhausted', 'users.registration_rate_limited', 'Try again later', undefined, { retryAfterSeconds: 30 });
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 429, 'resource_exhausted');
    expect(a.headers.get('retry-after')).toBe('30');
  });

  it('an internal AppError → 500 without its message', async () => {
    h.rpc.reply = () => {
      throw new AppError('internal', 'internal.unexpected', 'secret internal detail', undefined, { cause: new Error('pg: password authentication failed') });
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('secret internal detail');
    expect(a.text).not.toContain('password authentication');
    expect(a.text).not.toContain('internal.unexpected');
    expect(a.body.detail).toMatch(/request id/);
  });

  it('a plain thrown Error → 500 without its message or stack', async () => {
    h.rpc.reply = () => {
      throw new Error('secret internal detail');
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500, 'internal');
    expect(a.text).not.toContain('secret internal detail');
    expect(a.text).not.toMatch(/at .*\.ts:\d+/);
    expect(Object.keys(a.body).sort()).toEqual(['code', 'detail', 'request_id', 'status', 'title', 'type']);
  });

  it('a thrown non-Error value → 500', async () => {
    h.rpc.reply = () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is tested is a thrown non-Error
      throw 'secret internal detail';
    };
    const a = await postJson('/register', validRegistration);
    expectProblem(a, 500);
    expect(a.text).not.toContain('secret internal detail');
  });
});
