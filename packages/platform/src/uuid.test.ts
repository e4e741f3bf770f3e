import { EmailChangeRequest } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const timestampOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('has the 8-4-4-4-12 lowercase hex form, version 7 and the RFC variant', () => {
    for (let i = 0; i < 200; i++) {
      const id = uuidv7();
      expect(id).toMatch(FORMAT);
      expect(id[14]).toBe('7');
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
    }
  });

  it('is accepted by the contracts UUID schema (event ids, session ids)', () => {
    const id = uuidv7();
    expect(EmailChangeRequest.parse({ event_id: id })).toEqual({ event_id: id });
  });

  it('carries the millisecond timestamp in its first 48 bits', () => {
    expect(timestampOf(uuidv7(0))).toBe(0);
    expect(timestampOf(uuidv7(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(timestampOf(uuidv7(2 ** 48 - 1))).toBe(2 ** 48 - 1);
    expect(uuidv7(1_700_000_000_123).startsWith('018bcfe5-687b-7')).toBe(true);
    const before = Date.now();
    const t = timestampOf(uuidv7());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('sorts by creation time, as strings', () => {
    const start = 1_700_000_000_000;
    const ids = Array.from({ length: 500 }, (_, i) => uuidv7(start + i * 7));
    expect([...ids].sort()).toEqual(ids);
    expect(uuidv7(start + 1) > uuidv7(start)).toBe(true);
    expect(uuidv7(2 ** 40) > uuidv7(2 ** 40 - 1)).toBe(true);
  });

  it('is unique within one millisecond', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000)));
    expect(ids.size).toBe(5000);
  });
});
