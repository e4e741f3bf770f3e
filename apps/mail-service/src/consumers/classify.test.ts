import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { classify } from './users-events.js';

describe('what a failed email means for its message', () => {
  it('retries without limit while a service or the SMTP server is away', () => {
    expect(classify(new AppError('unavailable', 'rpc.no_responders', 'down'))).toBe('transient');
    expect(classify(new AppError('timeout', 'rpc.timeout', 'slow'))).toBe('transient');
    expect(classify(Object.assign(new Error('busy'), { responseCode: 451 }))).toBe('transient');
    expect(classify(Object.assign(new Error('refused'), { code: 'ECONNECTION' }))).toBe('transient');
    expect(classify(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('transient');
  });

  it('gives up at once on what can never succeed', () => {
    expect(classify(Object.assign(new Error('no such mailbox'), { responseCode: 550 }))).toBe('permanent');
    expect(classify(new AppError('invalid_argument', 'users.issue_email_confirmation.invalid', 'bad'))).toBe('permanent');
  });

  it('retries unknown errors a bounded number of times', () => {
    expect(classify(new TypeError('a bug'))).toBe('unexpected');
    expect(classify(Object.assign(new Error('no recipients'), { code: 'EENVELOPE' }))).toBe('unexpected');
    expect(classify(new AppError('internal', 'internal.unexpected', 'oops'))).toBe('unexpected');
  });
});
