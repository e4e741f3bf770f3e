import { TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { isFailover, throughFailover } from './jetstream-failover.js';

const noResponders = () => Object.assign(new Error('jetstream is not enabled'), { name: 'JetStreamNotEnabled' });

describe('throughFailover', () => {
  it('tries again while JetStream elects a leader, and returns the first answer', async () => {
    let calls = 0;
    const result = await throughFailover(async () => {
      calls++;
      if (calls === 1) throw new TimeoutError();
      if (calls === 2) throw noResponders();
      return 'written';
    }, 2_000);
    expect(result).toBe('written');
    expect(calls).toBe(3);
  });

  it('passes any other error at once', async () => {
    let calls = 0;
    const refusal = new Error('wrong last sequence');
    await expect(
      throughFailover(async () => {
        calls++;
        throw refusal;
      }, 2_000),
    ).rejects.toBe(refusal);
    expect(calls).toBe(1);
  });

  it('gives up with the last failover error once the budget is spent', async () => {
    const started = Date.now();
    let calls = 0;
    const err = await throughFailover(async () => {
      calls++;
      throw noResponders();
    }, 300).catch((e: unknown) => e);
    expect(isFailover(err)).toBe(true);
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
