/** Clients that dribble their headers or body are cut off after HTTP_HEADERS_TIMEOUT / HTTP_REQUEST_TIMEOUT, not held for minutes. */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startGateway(undefined, { timeouts: { headersSeconds: 1, requestSeconds: 2, keepAliveSeconds: 1 } });
});
afterAll(async () => {
  await h?.close();
});

/** Far beyond the configured 1–2 s (a busy machine is slow), far below Node's defaults (60 s, 300 s). */
const GIVE_UP_MS = 20_000;

/**
 * Open a connection, send `head`, then one more `drip` every 200 ms until the server closes the
 * connection or GIVE_UP_MS passes. What came back, and whether the server was the one to close.
 */
async function dribble(head: string, drip: string): Promise<{ closedByServer: boolean; answer: string }> {
  const { port } = new URL(h.url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(head);
  const timer = setInterval(() => socket.writable && socket.write(drip), 200);
  const closedByServer = await new Promise<boolean>((resolve) => {
    const giveUp = setTimeout(() => resolve(false), GIVE_UP_MS);
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve(true);
    });
  });
  clearInterval(timer);
  socket.destroy();
  return { closedByServer, answer };
}

describe('slow clients', () => {
  it('a client that never finishes its headers is answered 408 and cut off', async () => {
    const { closedByServer, answer } = await dribble('GET /healthz HTTP/1.1\r\nHost: gateway\r\n', 'X-Slow: a\r\n');
    expect(closedByServer).toBe(true);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 30_000);

  it('a client that never finishes its body is answered 408 and cut off', async () => {
    const head = 'POST /register HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{"username":"';
    const { closedByServer, answer } = await dribble(head, 'a');
    expect(closedByServer).toBe(true);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 30_000);

  it('a client that sends its request in time is answered as usual', async () => {
    const a = await fetch(`${h.url}/healthz`);
    expect(a.status).toBe(200);
  });
});
