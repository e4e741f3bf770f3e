import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamName, Streams } from '@um/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { eventually, testInfra } from '@um/testkit';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';
import { freePort } from './free-port.js';
import { NATS_BIN } from './private-nats.js';
import { SmtpSink } from './smtp.js';

let natsProc: ChildProcess | undefined;
let port = 0;
const storeDir = mkdtempSync(join(tmpdir(), 'um-nats-'));

async function startNats(): Promise<void> {
  natsProc = spawn(NATS_BIN!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  await eventually(async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false });
    await nc.close();
    return true;
  }, 10_000);
}

async function stopNats(): Promise<void> {
  const p = natsProc!;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

let smtp: SmtpSink;
let sys: System;

beforeAll(async () => {
  if (!NATS_BIN) throw new Error('This test restarts its own NATS server: install nats-server (on PATH or /usr/sbin) or set NATS_SERVER_BIN');
  port = await freePort();
  await startNats();
  smtp = new SmtpSink();
  const smtpUrl = await smtp.start();
  sys = await System.start({
    mail: 1,
    env: { NATS_URL: `nats://127.0.0.1:${port}`, SMTP_URL: smtpUrl, RPC_TIMEOUT_MS: '2000', RELAY_POLL_MS: '200', MAIL_RETRY_BASE_MS: '100', MAIL_RETRY_MAX_MS: '1000' },
  });
});

afterAll(async () => {
  await sys?.stop();
  await smtp?.stop();
  if (natsProc && natsProc.exitCode === null) await stopNats();
  rmSync(storeDir, { recursive: true, force: true });
});

it('loses nothing when NATS restarts under registrations', async () => {
  const registered: Array<{ email: string }> = [];
  const statuses: number[] = [];
  let running = true;
  const load = (async () => {
    while (running) {
      const input = newUser();
      const res = await http(sys.url, 'POST', '/register', { body: input }).catch(() => ({ status: 0 }));
      statuses.push(res.status);
      if (res.status === 201) registered.push(input);
      else await new Promise((r) => setTimeout(r, 100));
    }
  })();

  await eventually(async () => registered.length >= 5, 10_000);
  await stopNats();
  await new Promise((r) => setTimeout(r, 1000));
  await startNats();
  const before = registered.length;
  await eventually(async () => registered.length >= before + 5, 20_000);
  running = false;
  await load;

  // Calls during the outage failed cleanly (503/504), never hung; those that succeeded are complete.
  expect(
    statuses.every((s) => [201, 503, 504].includes(s)),
    statuses.join(','),
  ).toBe(true);
  await eventually(async () => registered.every((u) => smtp.to(u.email).length >= 1), 30_000);
  await new Promise((r) => setTimeout(r, 700));
  for (const u of registered) expect(smtp.to(u.email), u.email).toHaveLength(1);

  const client = new pg.Client({ connectionString: testInfra().databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ event_id: string }>(`SELECT event_id FROM "${sys.env.USERS_DB_SCHEMA}".events`);
  await client.end();
  const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
  const jsm = await jetstreamManager(nc);
  const stream = streamName(sys.namespace, Streams.usersEvents);
  await eventually(async () => (await jsm.streams.info(stream)).state.messages === rows.length, 15_000);
  const info = await jsm.streams.info(stream);
  const published = new Set<string>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    // A missing message (null) is caught below: the set must equal the event table.
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) published.add(m.json<{ event_id: string }>().event_id);
  }
  await nc.close();
  expect(info.state.messages).toBe(rows.length);
  expect([...published].sort()).toEqual(rows.map((r) => r.event_id).sort());
});
