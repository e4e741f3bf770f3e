import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Rpcs } from '@um/contracts';
import {
  connectNats,
  createLogger,
  createMetricsRegistry,
  loadProfile,
  openRevocations,
  RevocationCache,
  RetryPolicy,
  RpcClient,
  runMain,
  startMetricsServer,
  TokenVerifier,
} from '@um/platform';
import { createApp } from './app.js';
import { createHttpServer } from './http/server.js';
import { gatewayNatsName, loadConfig } from './config.js';
import { readinessProbe } from './readiness.js';

runMain('gateway', async () => {
  const config = loadConfig(process.env);
  // The same profile schema as users-service's: a file it cannot use stops the start here.
  const profile = loadProfile(config.PROFILE_SCHEMA);
  // LOG_BODIES=full asks for the access log as it was sent, so nothing in this process masks it.
  const log = createLogger('gateway', config.LOG_LEVEL, { personalData: config.LOG_BODIES === 'full' ? 'clear' : 'masked' });
  // Each replica reads its replies under its own inbox prefix, which only its own NATS user may subscribe to.
  const nc = await connectNats(config, gatewayNatsName(config), log);
  const metrics = createMetricsRegistry('gateway');
  const rpc = new RpcClient(nc, config.NATS_NAMESPACE, config.RPC_TIMEOUT_MS, RetryPolicy.fromConfig(config), undefined, metrics);
  const revocations = await RevocationCache.start(await openRevocations(nc, config.NATS_NAMESPACE, config.JETSTREAM_REPLICAS), log);
  const verifier = new TokenVerifier(() => rpc.call(Rpcs.auth.jwks, {}, { requestId: 'jwks', timeoutMs: 2000 }), revocations.cache, log, config.ACCESS_TOKEN_TTL);
  await verifier.warmUp();

  const app = createApp({
    rpc,
    verifier,
    readiness: readinessProbe(nc, rpc),
    log,
    trustProxy: config.TRUST_PROXY,
    logBodies: config.LOG_BODIES,
    directory: { scope: config.USER_DIRECTORY, fields: config.USER_DIRECTORY_FIELDS, profile },
    metrics,
    namespace: config.NATS_NAMESPACE,
  });
  // `/metrics` only on METRICS_PORT (unset: not served), for a scraper the public never reaches; the API port answers it 404.
  const metricsServer = await startMetricsServer(config.METRICS_PORT, metrics, log);
  const server = createHttpServer(app, {
    headersSeconds: config.HTTP_HEADERS_TIMEOUT,
    requestSeconds: config.HTTP_REQUEST_TIMEOUT,
    keepAliveSeconds: config.HTTP_KEEP_ALIVE_TIMEOUT,
  }).listen(config.PORT, config.HOST);
  await once(server, 'listening');
  // Once stopping, every answer closes its connection: a keep-alive client would otherwise keep
  // this process busy forever; its next request opens a connection to another gateway instead.
  let stopping = false;
  server.prependListener('request', (_req, res) => {
    if (stopping && !res.headersSent) res.setHeader('connection', 'close');
  });
  const { port } = server.address() as AddressInfo;
  log.info({ url: `http://localhost:${port}`, namespace: config.NATS_NAMESPACE ?? null }, `gateway listening on http://localhost:${port}`);

  return {
    log,
    stop: async () => {
      stopping = true;
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      await closed;
      metricsServer?.close();
      revocations.stop();
      await nc.drain();
    },
  };
});
