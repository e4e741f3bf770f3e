/** Liveness and readiness (GET /healthz, GET /readyz), and nothing that names the framework. */
import { describe, expect, it } from 'vitest';
import { expectProblem, requester, useGateway } from './support.js';

const h = useGateway();
const { send } = requester(() => h);

describe('infrastructure endpoints', () => {
  it('GET /healthz → 200', async () => {
    const a = await send('/healthz');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 when ready', async () => {
    const a = await send('/readyz');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok', checks: { nats: 'ok', users: 'ok', auth: 'ok' } });
  });

  it('GET /readyz → 503 when not ready', async () => {
    h.readiness.value = { ok: false, checks: { nats: 'ok', users: 'unavailable', auth: 'ok' } };
    const a = await send('/readyz');
    expect(a.status).toBe(503);
    expect(a.body).toEqual({ status: 'unavailable', checks: { nats: 'ok', users: 'unavailable', auth: 'ok' } });
  });

  it('POST /healthz → 405', async () => {
    const a = await send('/healthz', { method: 'POST' });
    expectProblem(a, 405);
    expect(a.headers.get('allow')).toBe('GET');
  });

  it('does not say which framework it runs on', async () => {
    const a = await send('/healthz');
    expect(a.headers.get('x-powered-by')).toBeNull();
  });
});
