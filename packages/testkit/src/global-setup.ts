import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    natsUrl: string;
  }
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests run on real Postgres and NATS: taken from DATABASE_URL / NATS_URL when set,
 * otherwise started with testcontainers when Docker is there, otherwise a clear failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  let databaseUrl = process.env.DATABASE_URL;
  let natsUrl = process.env.NATS_URL;
  if ((!databaseUrl || !natsUrl) && !dockerAvailable()) {
    throw new Error(
      'Tests need PostgreSQL and NATS (with JetStream). Set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) ' +
        'and NATS_URL (e.g. nats://127.0.0.1:4222), or make a Docker engine available so testcontainers can start them.',
    );
  }
  if (!databaseUrl) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const pg = await new PostgreSqlContainer('postgres:15-alpine').start();
    stops.push(() => pg.stop());
    databaseUrl = pg.getConnectionUri();
  }
  if (!natsUrl) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const nats = await new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    stops.push(() => nats.stop());
    natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
  }
  project.provide('databaseUrl', databaseUrl);
  project.provide('natsUrl', natsUrl);
  return async () => {
    for (const stop of stops) await stop();
  };
}
