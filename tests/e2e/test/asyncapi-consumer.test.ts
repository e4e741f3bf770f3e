import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { streamName, Streams } from '@um/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually } from '@um/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { http, newUser, System } from './harness.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
/** Beside the tests, so its imports resolve from the workspace's node_modules as a user's would from theirs. */
const SCRIPT = fileURLToPath(new URL(`../welcome-bot-${process.pid}.mjs`, import.meta.url));

/** The consumer exactly as the README shows it. */
function readmeConsumer(): string {
  const section = /<!-- asyncapi-consumer:start -->\s*```js\n([\s\S]*?)```\s*<!-- asyncapi-consumer:end -->/.exec(readFileSync(README, 'utf8'));
  if (!section) throw new Error('README.md has no asyncapi-consumer snippet');
  return section[1]!;
}

let sys: System;
beforeAll(async () => {
  sys = await System.start({ env: { RELAY_POLL_MS: '200' } });
});
afterAll(async () => {
  rmSync(SCRIPT, { force: true });
  await sys?.stop();
});

it("the README's UserRegistered consumer, written against /asyncapi.json, sees a real registration", async () => {
  const code = readmeConsumer();
  expect(code.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(16);
  writeFileSync(SCRIPT, code);

  const first = await http(sys.url, 'POST', '/register', { body: newUser() });
  expect(first.status).toBe(201);
  // The stream exists once the relay has published (the bot adds its consumer to it).
  const nc = await connect({ servers: sys.env.NATS_URL! });
  const jsm = await jetstreamManager(nc);
  await eventually(async () => (await jsm.streams.info(streamName(sys.namespace, Streams.usersEvents)).catch(() => null))?.state.messages);
  await nc.close();

  const bot = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '', GATEWAY_URL: sys.url, NATS_URL: sys.env.NATS_URL! }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const s of [bot.stdout, bot.stderr]) createInterface({ input: s }).on('line', (l) => lines.push(l));
  try {
    const second = await http(sys.url, 'POST', '/register', { body: newUser() });
    expect(second.status).toBe(201);
    // Both: the one from before it started (its durable consumer starts at the beginning) and the new one.
    await eventually(async () => lines.includes(`user ${second.body.id} registered as user`) && lines.includes(`user ${first.body.id} registered as user`), 15_000);
    expect(lines.filter((l) => l.includes('registered as')).length).toBe(2);
  } catch (e) {
    throw new Error(`the bot printed:\n${lines.join('\n')}`, { cause: e });
  } finally {
    bot.kill('SIGTERM');
  }
});
