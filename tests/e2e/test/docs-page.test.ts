import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import type { OpenApiDocument } from './openapi-validator.js';

/**
 * The API reference page at GET /docs, driven in headless Chromium (Debian's `chromium`; `.ci/run`
 * installs it): every operation of the document is listed, and a person can register, log in,
 * authorize with the token and read themself from the page's try-it-out, with no request leaving
 * the gateway's origin and nothing refused by the page's Content-Security-Policy.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let sys: System;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
  sys = await System.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(sys.url) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

/** Expand an operation (ids are `operations-<tag>-<operationId>`), send it from try-it-out, and read its answer. */
async function execute(id: string, body?: unknown): Promise<{ status: number; body: any }> {
  const block = page.locator(`#${id}`);
  if (!(await block.locator('button.execute').isVisible())) await block.locator('.opblock-summary-control').click();
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table tr.response').first();
  const status = row.locator('.response-col_status');
  await status.waitFor({ timeout: 15_000 });
  const text = await row.locator('.response-col_description pre.microlight').first().innerText();
  const parsed = text.trim() ? (JSON.parse(text) as unknown) : undefined;
  return { status: Number((await status.innerText()).trim()), body: parsed };
}

async function openDocs(): Promise<void> {
  await page.goto(`${sys.url}/docs`);
  await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
}

describe('GET /docs in a browser', () => {
  it('lists every operation of the document', async () => {
    await openDocs();
    const listed = await page
      .locator('.opblock')
      .evaluateAll((blocks) =>
        blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
      );
    const doc = (await http<OpenApiDocument>(sys.url, 'GET', '/openapi.json')).body;
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.length).toBeGreaterThan(30);
    expect([...listed].sort()).toEqual([...documented].sort());
    if (process.env.DOCS_SCREENSHOT) await page.screenshot({ path: process.env.DOCS_SCREENSHOT });
  });

  it('register → login → authorize → GET /users/me, from the page', async () => {
    await openDocs();
    const user = newUser();
    const registered = await execute('operations-auth-postRegister', user);
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ username: user.username, email: user.email });

    const login = await execute('operations-auth-postLogin', { username: user.username, password: user.password });
    expect(login.status).toBe(200);
    expect(login.body.access_token).toEqual(expect.any(String));

    // Without authorizing first, the page's call is refused like anyone's.
    const anonymous = await execute('operations-users-getUsersMe');
    expect(anonymous.status).toBe(401);

    await page.locator('.scheme-container button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog
      .locator('input')
      .first()
      .fill(login.body.access_token as string);
    await dialog.locator('button.modal-btn.auth.authorize').click();
    await dialog.locator('button.btn-done, button.close-modal').first().click();

    const me = await execute('operations-users-getUsersMe');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: registered.body.id, username: user.username });
    if (process.env.DOCS_SCREENSHOT_TRY) await page.locator('#operations-users-getUsersMe').screenshot({ path: process.env.DOCS_SCREENSHOT_TRY });
  }, 180_000);

  it('loaded nothing from elsewhere and broke no rule of its Content-Security-Policy', () => {
    expect(foreignRequests).toEqual([]);
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });
});
