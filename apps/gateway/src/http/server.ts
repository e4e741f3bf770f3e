import { createServer, type RequestListener, type Server } from 'node:http';

/** How long a client may take, in seconds: `HTTP_HEADERS_TIMEOUT`, `HTTP_REQUEST_TIMEOUT`, `HTTP_KEEP_ALIVE_TIMEOUT`. */
export interface HttpTimeouts {
  /** To send the whole header block; else 408 and the connection closes. */
  headersSeconds: number;
  /** To send the whole request, body included; else 408 and the connection closes. */
  requestSeconds: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveSeconds: number;
}

/**
 * The API's HTTP server with its timeouts: Node's defaults hold slow headers for 60 s and a slow
 * body for 300 s (checked every 30 s), so a few clients dribbling bytes would hold many
 * connections. Timeouts are checked every second at most, so a shorter setting is kept.
 */
export function createHttpServer(app: RequestListener, t: HttpTimeouts): Server {
  const server = createServer(
    {
      // The headers are part of the request: their limit is never the longer one (Node refuses that).
      headersTimeout: Math.min(t.headersSeconds, t.requestSeconds) * 1000,
      requestTimeout: t.requestSeconds * 1000,
      keepAliveTimeout: t.keepAliveSeconds * 1000,
      connectionsCheckingInterval: Math.min(1000, (Math.min(t.headersSeconds, t.requestSeconds) * 1000) / 2),
    },
    app,
  );
  return server;
}
