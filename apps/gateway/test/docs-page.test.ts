import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requester, startGateway, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startGateway();
});
afterAll(() => h?.close());
const { send } = requester(() => h);

describe('GET /docs', () => {
  it('is a page that loads Swagger UI and its set-up from this gateway only, over /openapi.json', async () => {
    const page = await send('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['data:,', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
    // no inline script: the CSP allows scripts of this origin only
    expect(page.text).not.toMatch(/<script>/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(page.headers.get('content-security-policy')).toMatch(/connect-src 'self';/);
    const init = await send('/docs/init.js');
    expect(init.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(init.text).toContain("url: '/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
  });

  it('serves the bundle and the stylesheet from the npm package, cacheable', async () => {
    const js = await send('/docs/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.text).toContain('SwaggerUIBundle');
    expect(js.headers.get('cache-control')).toBe('public, max-age=86400');
    const css = await send('/docs/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves nothing else of the package (its index.html points at a public sample API)', async () => {
    for (const path of ['/docs/index.html', '/docs/swagger-initializer.js', '/docs/../package.json', '/docs/swagger-ui-bundle.js.map']) {
      const a = await send(path);
      expect(a.status, path).toBe(404);
    }
  });
});
