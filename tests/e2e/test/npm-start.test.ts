import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@um/testkit';
import { afterEach, expect, it } from 'vitest';
import { System } from './harness.js';
import { freePort } from './free-port.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Parent pid of every live process (Linux /proc), to find what `npm start` started. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (2nd field) may hold spaces: the fields after its closing parenthesis are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') map.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  return map;
}

function descendantsOf(pid: number): number[] {
  const tree = parents();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of tree) {
      if (parent !== p) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

const alive = (pids: number[]) => {
  const live = parents();
  return pids.filter((p) => live.has(p));
};

const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();

let npm: ChildProcess | undefined;
let sys: System | undefined;
let started: number[] = [];

afterEach(async () => {
  // Whatever a failed run left behind, by pid only.
  for (const pid of alive(started)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (npm?.exitCode === null) npm.kill('SIGKILL');
  await sys?.stop();
});

/** `npm start` on its own port, schemas and NATS namespace, ready once `/readyz` answers 200. */
async function npmStart(): Promise<{ npm: ChildProcess; output: () => string }> {
  const port = await freePort();
  sys = new System({ PORT: String(port), LOG_LEVEL: 'warn' });
  let out = '';
  // Not the npm_* settings of an npm that may be running these tests: they would point `npm start` elsewhere.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  const proc = spawn('npm', ['start'], { cwd: ROOT, env: { ...env, ...sys.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  npm = proc;
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`npm start exited (${proc.exitCode}):\n${out}`);
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`npm start not ready within 120 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { npm: proc, output: () => out };
}

/** Everything under the npm process (kept for the clean-up), once the launcher and the four apps are among it. */
function startedBy(npmPid: number): number[] {
  started = descendantsOf(npmPid);
  const nodeScripts = started.map(commandOf).filter((c) => /(^|\/)node /.test(c));
  expect(nodeScripts.filter((c) => c.endsWith('scripts/start.mjs'))).toHaveLength(1);
  expect(nodeScripts.filter((c) => c.endsWith('dist/main.js'))).toHaveLength(4);
  return started;
}

it('stops the launcher and all four apps when the npm process gets SIGTERM', { timeout: 180_000 }, async () => {
  const { npm: proc, output } = await npmStart();
  startedBy(proc.pid!);
  const exited = once(proc, 'exit');
  const t0 = Date.now();
  proc.kill('SIGTERM');
  await eventually(async () => alive(started).length === 0, 5_000).catch(() => {
    throw new Error(`still running 5 s after SIGTERM: ${alive(started).map(commandOf).join(', ')}\n${output()}`);
  });
  await exited;
  expect(Date.now() - t0).toBeLessThan(5_000);
  // The apps stopped cleanly (SIGTERM, not the launcher's SIGKILL after 9 s).
  expect(output()).not.toMatch(/exited \(SIGKILL\)/);
});

it('stops everything when the npm process dies without passing anything on (SIGKILL)', { timeout: 180_000 }, async () => {
  const { npm: proc, output } = await npmStart();
  startedBy(proc.pid!);
  proc.kill('SIGKILL');
  // The orphaned launcher notices within half a second and stops the apps.
  await eventually(async () => alive(started).length === 0, 5_000).catch(() => {
    throw new Error(`still running 5 s after npm was killed: ${alive(started).map(commandOf).join(', ')}\n${output()}`);
  });
});
