import { DURATION_BUCKETS, Histogram, metricOf, type Registry } from '@um/platform';
import type { RequestHandler } from 'express';

/**
 * Time every request by method, route pattern (`/users/:user_id`, never the path as sent, which may
 * hold an id or a token) and status. A request no route matched is counted as `unmatched`.
 */
export function requestMetrics(registry: Registry): RequestHandler {
  const name = 'um_http_request_duration_seconds';
  const durations = metricOf(
    registry,
    name,
    () =>
      new Histogram({
        name,
        help: 'Time to answer an HTTP request, by method, route pattern and status',
        labelNames: ['method', 'route', 'status'],
        buckets: DURATION_BUCKETS,
        registers: [registry],
      }),
  );
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
      durations.observe({ method: req.method, route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    next();
  };
}
