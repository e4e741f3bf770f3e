import { createServer, type Server } from 'node:http';
import { ConfigError } from './config.js';
import type { Logger } from './logger.js';
import { NatsAuthError } from './nats-connect.js';

export type Stop = () => Promise<void>;

const SHUTDOWN_BUDGET_MS = 8_000;

/**
 * Process entry point: start the app, then stop it cleanly on SIGINT/SIGTERM within a bounded time.
 * Configuration errors print one readable message and exit 1.
 */
export function runMain(name: string, start: () => Promise<{ stop: Stop; log: Logger }>): void {
  let stopping = false;
  start()
    .then(({ stop, log }) => {
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        const timer = setTimeout(() => {
          log.error('shutdown took too long; exiting');
          process.exit(1);
        }, SHUTDOWN_BUDGET_MS);
        timer.unref();
        stop().then(
          () => {
            log.info('stopped');
            process.exit(0);
          },
          (err) => {
            log.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
    })
    .catch((err) => {
      if (err instanceof ConfigError || err instanceof NatsAuthError) console.error(`${name}: ${err.message}`);
      else console.error(`${name}: failed to start:`, err);
      process.exit(1);
    });
}

/** Ready while the NATS connection is open and Postgres answers. */
export const connectedTo = (nc: { isClosed(): boolean }, pool: { query(sql: string): Promise<unknown> }) => async (): Promise<boolean> =>
  !nc.isClosed() &&
  (await pool.query('SELECT 1').then(
    () => true,
    () => false,
  ));

/** Optional liveness/readiness port for container healthchecks (`HEALTH_PORT`). */
export function startHealthServer(port: number | undefined, ready: () => Promise<boolean>): Server | undefined {
  if (!port) return undefined;
  const server = createServer((_req, res) => {
    ready().then(
      (ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      },
      () => {
        res.writeHead(503).end();
      },
    );
  });
  server.listen(port);
  return server;
}
