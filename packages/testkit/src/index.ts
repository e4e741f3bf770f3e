import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestInfra {
  databaseUrl: string;
  natsUrl: string;
}

/** The Postgres and NATS the global setup settled on. */
export function testInfra(): TestInfra {
  return { databaseUrl: inject('databaseUrl'), natsUrl: inject('natsUrl') };
}

/** A short random suffix: every test file gets its own schema and NATS namespace. */
export const uniqueId = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

export async function dropSchemas(databaseUrl: string, ...schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Poll `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${lastError instanceof Error ? String(lastError) : inspect(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
export * from './metrics.js';
