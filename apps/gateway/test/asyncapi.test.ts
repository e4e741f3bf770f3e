import { Parser } from '@asyncapi/parser';
import { allRpcs, PublishedUserEvent } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../src/asyncapi.js';

describe('asyncapi document', () => {
  it('is a valid AsyncAPI 3.0 document', async () => {
    const { document, diagnostics } = await new Parser().parse(asyncApiDocument('ns1') as Record<string, unknown>);
    // Severity 0 is an error, 1 a warning.
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document).toBeDefined();
  });
});
