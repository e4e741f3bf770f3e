import { AppError } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { classify } from './users-events.js';

describe('what a failed email means for its message', () => {
  it('retries without limit while a service or the SMTP server is away', () => {
    expect(classify(new AppError('unavailable', 'x', 'down'))).toBe('transient');
    expect(classify(new AppError('timeout', 'x', 'slow'))).toBe('transient');
    expect(classify(Object.assign(new Error('busy'), { responseCode: 451 }))).toBe('transient');
    expect(classify(Object.assign(new Error('refused'), { code: 'ECONNECTION' }))).toBe('transient');
    expect(classify(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('transient');
  });

  it('gives up at once on what can never succeed', () => {
    expect(classify(Object.assign(new Error('no such mailbox'), { responseCode: 550 }))).toBe('permanent');
    expect(classify(new AppError('invalid_argument', 'x', 'bad'))).toBe('permanent');
  });

  it('retries unknown errors a bounded number of times', () => {
    expect(classify(new TypeError('a bug'))).toBe('unexpected');
    expect(classify(Object.assign(new Error('no recipients'), { code: 'EENVELOPE' }))).toBe('unexpected');
    expect(classify(new AppError('internal', 'x', 'oops'))).toBe('unexpected');
  });
});
