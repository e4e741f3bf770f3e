import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, captureResponseBody } from '../src/http/middleware/logging.js';
import { capturedLogger } from './captured-log.js';

/** The access log of answers the gateway's routes do not give in its other tests: 5xx of its own making, and a response cut off mid-way. */
const { log, output } = capturedLogger();

const app = express();
app.use(accessLog(log));
app.use(captureResponseBody);
app.get('/fails', (_req, res) => {
  res.locals.error = { id: 'test.down', cause: new Error('the store of alice@example.com is down') };
  res.status(500).json({ code: 'internal' });
});
app.get('/unavailable', (_req, res) => {
  res.status(503).send('try later');
});
app.get('/cut', (_req, res) => {
  res.write('half');
  setTimeout(() => res.destroy(), 20);
});

let url: string;
let server: ReturnType<typeof app.listen>;
beforeAll(async () => {
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

async function lineFor(path: string, requestId: string): Promise<Record<string, unknown>> {
  await fetch(`${url}${path}`, { headers: { 'x-request-id': requestId } })
    .then((r) => r.text())
    .catch(() => undefined);
  for (let i = 0; i < 200; i++) {
    const line = output
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.request_id === requestId);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no line for ${requestId}`);
}

describe('access log', () => {
  it('logs a 5xx as an error naming the status, with the error id and the cause masked', async () => {
    const line = await lineFor('/fails', 'fails-1');
    expect(line).toMatchObject({
      level: 50,
      service: 'gateway',
      req: { method: 'GET', path: '/fails' },
      res: { status: 500 },
      err: { type: 'Error', message: 'failed with status code 500' },
      user_id: null,
      response_body: { code: 'internal' },
      error_id: 'test.down',
      cause: 'Error: the store of a***@example.com is down',
      msg: 'GET /fails 500',
    });
    expect(Object.keys(line)).toEqual(['level', 'time', 'service', 'request_id', 'req', 'res', 'err', 'duration_ms', 'user_id', 'response_body', 'error_id', 'cause', 'msg']);
  });

  it('logs a 503 sent as text the same way, its body as sent', async () => {
    expect(await lineFor('/unavailable', 'unavailable-1')).toMatchObject({
      level: 50,
      res: { status: 503 },
      err: { message: 'failed with status code 503' },
      response_body: 'try later',
    });
  });

  it('logs a response cut off before it finished, once, with the status it had', async () => {
    const line = await lineFor('/cut', 'cut-1');
    expect(line).toMatchObject({ level: 30, res: { status: 200 }, msg: 'GET /cut 200' });
    expect(line).not.toHaveProperty('err');
    await new Promise((r) => setTimeout(r, 50));
    expect(
      output
        .join('')
        .split('\n')
        .filter((l) => l.includes('"cut-1"')),
    ).toHaveLength(1);
  });
});
