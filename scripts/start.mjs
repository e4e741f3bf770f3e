#!/usr/bin/env node
// `npm start`: run the gateway and every service as separate processes in the foreground.
// Ctrl-C or SIGTERM stops them all (each gets SIGTERM, stragglers SIGKILL after 9 s). npm forwards
// its SIGTERM here because the start script `exec`s this file (no shell in between); should the
// process that started us die anyway (npm killed with SIGKILL), we notice and stop too.
// The apps run on the Node.js running this file (`process.execPath`): under npm, the pinned one in
// node_modules/.bin. Started by hand with an older one, it says so once here, not once per app.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from '@um/platform/node-version';

requireSupportedNode('scripts/start.mjs');

const root = fileURLToPath(new URL('..', import.meta.url));
const apps = ['users-service', 'auth-service', 'mail-service', 'gateway'];
const colors = [36, 35, 33, 32];
const width = Math.max(...apps.map((a) => a.length));
const children = new Map();
// Links in emails point at this gateway unless told otherwise.
process.env.PUBLIC_URL ??= `http://localhost:${process.env.PORT || 8080}`;
let stopping = false;

function start(app, i) {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: `${root}apps/${app}`, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(app, child);
  const tag = process.stdout.isTTY ? `\x1b[${colors[i]}m${app.padEnd(width)}\x1b[0m |` : `${app.padEnd(width)} |`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(`${tag} ${line}\n`);
      if (app === 'gateway' && line.includes('gateway listening on')) {
        const url = /listening on (\S+?)"/.exec(line)?.[1] ?? `port ${process.env.PORT ?? 8080}`;
        process.stdout.write(`\n  Gateway listening on ${url}  (Ctrl-C stops everything)\n\n`);
      }
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (!stopping) {
      process.stderr.write(`${app} exited (${signal ?? code}); stopping the others\n`);
      stop(1);
    } else if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(1);
  }, 9_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
// Orphaned: whoever started us is gone, and nobody is left to stop the apps but us.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop(0);
}, 500).unref();
apps.forEach(start);
