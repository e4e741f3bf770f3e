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

  it('keeps its quantiles those of a sort of the last `size` samples as samples come and go, repeats included', () => {
    const w = new LatencyWindow(16);
    const all: number[] = [];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const ms = seed % 23; // few distinct values: many repeats to remove and insert among
      w.add(ms);
      all.push(ms);
      const last = all.slice(-16).sort((a, b) => a - b);
      for (const q of [0.01, 0.5, 0.9, 0.99, 1]) expect(w.quantile(q)).toBe(last[Math.min(last.length - 1, Math.ceil(q * last.length) - 1)]);
    }
  });
});

describe('RetryPolicy.silenceTimeout', () => {
  const subject = 'um.rpc.users.register';

  it('waits the initial silence until the subject has enough measurements', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < DEFAULT_RETRY.minSamples - 1; i++) p.observe(subject, 20);
    expect(p.silenceTimeout(subject)).toBe(DEFAULT_RETRY.initialSilenceMs);
  });

  it('is the measured p99 gap between signs of life × 2 once measured, not a fixed guess', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 200; i++) p.observe(subject, i < 197 ? 100 : 400);
    expect(p.silenceTimeout(subject)).toBe(800);
  });

  it('never goes below the floor: fast answers do not make a busy replica look dead', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 50; i++) p.observe(subject, 2);
    expect(p.silenceTimeout(subject)).toBe(DEFAULT_RETRY.minSilenceMs);
  });

  it('keeps the measurements of each subject apart', () => {
    const p = new RetryPolicy();
    for (let i = 0; i < 50; i++) {
      p.observe('um.rpc.users.get', 5);
      p.observe('um.rpc.users.verify_credentials', 400);
    }
    expect(p.silenceTimeout('um.rpc.users.get')).toBe(300);
    expect(p.silenceTimeout('um.rpc.users.verify_credentials')).toBe(800);
  });
});

describe('RetryPolicy.backoff', () => {
  it('doubles from the first pause and levels off at 8×', () => {
    const p = new RetryPolicy();
    expect([1, 2, 3, 4, 5, 6].map((n) => p.backoff(n))).toEqual([50, 100, 200, 400, 400, 400]);
  });
});
