import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pg from 'pg';
import { inject, vi } from 'vitest';

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

const NOT_YET = new Error('no value yet');

/** Poll `check` until it returns a truthy value or the deadline passes (vi.waitFor, which also retries on a throw). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5_000, stepMs = 50): Promise<T> {
  const truthy = async () => (await check()) || Promise.reject(NOT_YET);
  return vi.waitFor(truthy, { timeout: timeoutMs, interval: stepMs }).catch((last: unknown) => {
    const why = last === NOT_YET ? '' : `: ${last instanceof Error ? String(last) : inspect(last)}`;
    throw new Error(`condition not met within ${timeoutMs} ms${why}`);
  });
}

export * from './metrics.js';
