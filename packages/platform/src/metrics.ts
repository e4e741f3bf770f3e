import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { Logger } from './logger.js';

export { Counter, Gauge, Histogram, Registry };

/**
 * One process's metrics: Node's defaults (CPU, memory, event loop, GC) and whatever the app adds,
 * every series labelled with the service. Labels only ever carry names from a closed set (route
 * patterns, RPC names, error codes, kinds): never a raw path, an id, an email or a username.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Durations in seconds, from 5 ms (a cached read) to 10 s (`RPC_TIMEOUT_MS`'s default). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metric of this name in the registry, made on first use (the RPC server and client of one process share one registry). */
export function metricOf<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Answer a scrape in Prometheus' text format. */
export async function writeMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body);
  } catch {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
  }
}

/** `GET /metrics` on its own port (`METRICS_PORT`) for Prometheus; nothing else is served there. */
export async function startMetricsServer(port: number | undefined, registry: Registry, log?: Logger): Promise<Server | undefined> {
  if (port === undefined) return undefined;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') void writeMetrics(registry, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const url = `http://localhost:${(server.address() as AddressInfo).port}/metrics`;
  log?.info({ metrics_url: url }, `metrics at ${url}`);
  return server;
}

/** Time RPCs by name and outcome (`ok` or the error code), on the side that answers or the side that calls. */
export function rpcDurations(registry: Registry, side: 'server' | 'client'): Histogram<'rpc' | 'outcome'> {
  const name = `um_rpc_${side}_duration_seconds`;
  return metricOf(
    registry,
    name,
    () =>
      new Histogram({
        name,
        help: side === 'server' ? 'Time to answer an RPC, by RPC name and outcome' : 'Time until an RPC call returned, retries included, by RPC name and outcome',
        labelNames: ['rpc', 'outcome'],
        buckets: DURATION_BUCKETS,
        registers: [registry],
      }),
  );
}

/** Requests refused as too many (429: login throttle, registration and reset limits, resends), by RPC and the refusal's error id. */
export function throttleRefusals(registry: Registry): Counter<'rpc' | 'reason'> {
  const name = 'um_throttle_refusals_total';
  return metricOf(
    registry,
    name,
    () => new Counter({ name, help: 'Requests refused by a throttle or rate limit, by RPC and reason', labelNames: ['rpc', 'reason'], registers: [registry] }),
  );
}
