import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express, Response } from 'express';

/** Swagger UI's files, served from the npm package (no CDN): only the two the page loads. */
const uiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets = { 'swagger-ui.css': 'text/css', 'swagger-ui-bundle.js': 'text/javascript' } as const;

/**
 * The page's own rules: scripts only from this origin (no inline script: the set-up is a file of its
 * own), Swagger UI's inline style attributes, its SVG data: images, and calls to this API only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>User management API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// Try-it-out on by default; no call to the public validator service; the token is kept for the tab only.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayOperationId: true,
  tryItOutEnabled: true,
  validatorUrl: null,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const send = (res: Response, type: string, body: string | Buffer, cache: string) => {
  res.setHeader('Content-Security-Policy', DOCS_CSP);
  res.setHeader('Cache-Control', cache);
  res.type(type).send(body);
};

/** `GET /docs`: an API reference page (Swagger UI) over `/openapi.json`, with try-it-out. */
export function mountDocs(app: Express): void {
  app.get('/docs', (_req, res) => send(res, 'text/html; charset=utf-8', PAGE, 'public, max-age=300'));
  app.get('/docs/init.js', (_req, res) => send(res, 'text/javascript', INIT, 'public, max-age=300'));
  for (const [file, type] of Object.entries(assets))
    app.get(`/docs/${file}`, (_req, res) => {
      // Replaces the API's no-store: the package's files change only with its version.
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.type(type).sendFile(join(uiDir, file), { cacheControl: false });
    });
}
