import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { System } from './harness.js';

/** Every service that validates users loads PROFILE_SCHEMA; one it cannot use stops its start, saying why. */
const sys = new System({ PROFILE_SCHEMA: join(mkdtempSync(join(tmpdir(), 'profile-')), 'bad.json') });
afterAll(() => sys.stop());

describe('a bad profile schema file', () => {
  it('stops users-service and the gateway with a message naming the attribute and the problem', async () => {
    writeFileSync(sys.env.PROFILE_SCHEMA!, JSON.stringify({ attributes: { phone: { type: 'telephone' }, level: { type: 'enum' } } }));
    for (const app of ['users-service', 'gateway'] as const) {
      const p = await sys.spawn(app);
      expect(await p.waitExit(), p.output).toBe(1);
      expect(p.output).toContain('attribute "phone" type: must be one of text, date, url, phone, email, enum, text_list');
      expect(p.output).toContain('attribute "level" values: is required for type enum');
    }
  });
});
