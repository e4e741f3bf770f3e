import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, LatencyWindow, RetryPolicy } from './rpc-retry.js';

describe('LatencyWindow', () => {
  it('gives nearest-rank quantiles of the last `size` samples only', () => {
    const w = new LatencyWindow(100);
    for (let i = 1; i <= 100; i++) w.add(i);
    expect(w.quantile(0.99)).toBe(99);
    expect(w.quantile(0.5)).toBe(50);
    for (let i = 0; i < 100; i++) w.add(1000);
    expect(w.count).toBe(100);
    expect(w.quantile(0.5)).toBe(1000);
    expect(new LatencyWindow(4).quantile(0.99)).toBeUndefined();
  });
});

describe('RetryPolicy.attemptTimeout', () => {
  const subject = 'um.rpc.users.register';

  it('splits the deadline evenly until the subject has enough measurements', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < DEFAULT_RETRY.minSamples - 1; i++) p.observe(subject, 20);
    expect(p.attemptTimeout(subject, 9_000, 9_000, 3)).toBe(3_000);
  });

  it('is the measured p99 × 2 once measured, not a fixed guess', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 200; i++) p.observe(subject, i < 197 ? 100 : 200);
    expect(p.attemptTimeout(subject, 10_000, 10_000, 3)).toBe(400);
  });

  it('never cuts below the floor, nor above deadline / attempts, nor beyond what is left', () => {
    const fast = new RetryPolicy();
    for (let i = 0; i < 50; i++) fast.observe(subject, 2);
    expect(fast.attemptTimeout(subject, 10_000, 10_000, 3)).toBe(DEFAULT_RETRY.minAttemptMs);
    const slow = new RetryPolicy();
    for (let i = 0; i < 50; i++) slow.observe(subject, 5_000);
    expect(slow.attemptTimeout(subject, 9_000, 9_000, 3)).toBe(3_000);
    expect(fast.attemptTimeout(subject, 10_000, 120, 3)).toBe(120);
  });

  it('gives the last attempt the rest of the deadline, so a slow but legitimate answer is not cut', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 50; i++) p.observe(subject, 10);
    expect(p.attemptTimeout(subject, 10_000, 9_000, 1)).toBe(9_000);
  });

  it('keeps the measurements of each subject apart (bcrypt calls are slower than look-ups)', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 50; i++) {
      p.observe('um.rpc.users.get', 5);
      p.observe('um.rpc.users.verify_credentials', 400);
    }
    expect(p.attemptTimeout('um.rpc.users.get', 10_000, 10_000, 3)).toBe(250);
    expect(p.attemptTimeout('um.rpc.users.verify_credentials', 10_000, 10_000, 3)).toBe(800);
  });
});

describe('RetryPolicy.backoff', () => {
  it('doubles from the first pause and levels off at 8×', () => {
    const p = new RetryPolicy();
    expect([1, 2, 3, 4, 5, 6].map((n) => p.backoff(n))).toEqual([50, 100, 200, 400, 400, 400]);
  });
});
