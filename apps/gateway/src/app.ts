import { AppError, createMetricsRegistry, type Logger, type Registry, type RpcClient } from '@um/platform';
import express, { type ErrorRequestHandler } from 'express';
import { openDirectory, type DirectorySettings } from './access/directory.js';
import { policyFor } from './access/policy.js';
import type { TokenVerifier } from '@um/platform';
import { mountDocs } from './http/docs-page.js';
import { literalSegments } from './http/middleware/loggable-url.js';
import { accessLog, captureResponseBody, type LogBodies } from './http/middleware/logging.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { fromHttpError, HttpProblem, sendProblem } from './http/problem.js';
import { mountRoute } from './http/route.js';
import { aliasMounts, buildRoutes } from './http/routes.js';
import { shadowedFixedPaths } from './http/shadowed-paths.js';
import { openApiDocument } from './openapi/document.js';
import type { HealthReply, ReadinessReply } from './http/service-replies.js';
import { asyncApiDocument } from './asyncapi.js';
import { requestMetrics } from './http/middleware/metrics.js';

export interface Readiness {
  ok: boolean;
  checks: ReadinessReply['checks'];
}

export interface GatewayDeps {
  rpc: Pick<RpcClient, 'call'>;
  verifier: Pick<TokenVerifier, 'verify'>;
  readiness: () => Promise<Readiness>;
  log: Logger;
  trustProxy?: string | undefined;
  /** `LOG_BODIES`; masked unless told otherwise. */
  logBodies?: LogBodies;
  /** `USER_DIRECTORY` and `USER_DIRECTORY_FIELDS`; open and in full unless told otherwise. */
  directory?: DirectorySettings;
  /**
   * Where request durations are counted; a registry of its own unless given. It is served on
   * `METRICS_PORT` (main.ts), never on this app's port: the public has no business reading it.
   */
  metrics?: Registry;
  /** `NATS_NAMESPACE`: the subjects `/asyncapi.json` names are this deployment's. */
  namespace?: string | undefined;
}

const BODY_LIMIT = '100kb';

/** Build the HTTP app; `main` only listens. */
export function createApp(deps: GatewayDeps): express.Express {
  const directory = deps.directory ?? openDirectory;
  const routes = buildRoutes(directory.profile);
  const policy = policyFor(directory.scope);
  const routeDeps = { ...deps, policy, directory };
  const missing = routes.filter((r) => !(r.route in policy));
  if (missing.length) throw new Error(`routes without an access rule: ${missing.map((r) => r.route).join(', ')}`);

  const app = express();
  app.disable('x-powered-by');
  // Answers are no-store (personal data): an ETag would cost a hash of every body for nothing.
  app.set('etag', false);
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy);
  const metrics = deps.metrics ?? createMetricsRegistry('gateway');
  app.use(requestMetrics(metrics));
  app.use(securityHeaders);
  const mounted = aliasMounts(routes, directory.profile);
  // The words of every path the gateway serves: of a path no route matched, the log shows only these in clear.
  const literals = literalSegments([...Object.keys(policy).map((k) => k.split(' ')[1]!), ...mounted.map((m) => m.mount.path ?? '')]);
  app.use(accessLog(deps.log, deps.logBodies ?? 'masked', literals));
  app.use(captureResponseBody);
  app.use(express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 100 }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' } satisfies HealthReply);
  });
  app.get('/readyz', async (_req, res) => {
    const r = await deps.readiness();
    res.status(r.ok ? 200 : 503).json({ status: r.ok ? 'ok' : 'unavailable', checks: r.checks } satisfies ReadinessReply);
  });
  const openapi = openApiDocument(routes);
  app.get('/openapi.json', (_req, res) => {
    // The same for every caller and until the next deployment.
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(openapi);
  });

  const asyncapi = asyncApiDocument(deps.namespace);
  app.get('/asyncapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(asyncapi);
  });
  mountDocs(app);

  // A known path with another method: 405 and the methods it has.
  const methods = new Map<string, string[]>();
  for (const key of [...Object.keys(policy), ...mounted.map((m) => `${m.mount.method} ${m.mount.path}`)]) {
    const [method, path] = key.split(' ') as [string, string];
    methods.set(path, [...new Set([...(methods.get(path) ?? []), method])]);
  }
  const methodNotAllowed = (allowed: string[]) => (_req: express.Request, res: express.Response) => {
    res.setHeader('Allow', allowed.join(', '));
    sendProblem(res, new HttpProblem(405, 'http.method_not_allowed', `Allowed methods: ${allowed.join(', ')}`));
  };
  // Fixed paths a parameter route would take for a value it cannot accept (`DELETE /users/search`):
  // their 405 comes before the parameter routes.
  for (const path of shadowedFixedPaths(routes, methods.keys())) {
    const allowed = methods.get(path)!;
    const refuse = methodNotAllowed(allowed);
    app.all(path, (req, res, next) => {
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if (allowed.includes(method)) next();
      else refuse(req, res);
    });
  }

  for (const def of routes) mountRoute(app, def, routeDeps);
  for (const { def, mount } of mounted) mountRoute(app, def, routeDeps, mount);
  for (const [path, allowed] of methods) app.all(path, methodNotAllowed(allowed));

  app.use((req, res) => sendProblem(res, new AppError('not_found', 'http.no_route', `No route for ${req.method} ${req.path}`)));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    sendProblem(res, fromHttpError(err) ?? new AppError('internal', 'gateway.unhandled', 'Internal error', undefined, { cause: err }));
  };
  app.use(onError);
  return app;
}
