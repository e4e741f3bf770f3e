// The processes a run watches, and what they cost: CPU seconds from /proc (this machine only), RSS.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** The pids of a process's children. */
const childrenOf = (pid) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);

const statFields = (pid) => (/\) (.*)$/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8').trim())?.[1] ?? '').split(' ');

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of a server that works in child processes (Postgres: a backend per connection): its
 * own, its children's that have exited (cutime, cstime) and those of the children alive now.
 */
export function treeCpuSeconds(pid) {
  try {
    const f = statFields(pid);
    let total = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const child of childrenOf(pid)) {
      try {
        const c = statFields(child);
        total += Number(c[11]) + Number(c[12]);
      } catch {
        // It exited between the listing and the read: its time is in cutime by the next reading.
      }
    }
    return total / 100;
  } catch {
    return NaN;
  }
}

/** The node processes `npm start` runs, by app name (their working directory is apps/<name>). */
export function appPids(parent) {
  const out = {};
  for (const pid of childrenOf(parent)) {
    const app = /apps\/([^/]+)$/.exec(readlinkSync(`/proc/${pid}/cwd`))?.[1];
    if (app) out[app] = Number(pid);
  }
  return out;
}

/** The NATS server's pid when it runs on this machine, else undefined. */
export function natsServerPid() {
  try {
    return Number(execFileSync('pgrep', ['-o', '-x', 'nats-server'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The Postgres postmaster's pid, from one of its backends (`pg_backend_pid()`), when it runs on this machine. */
export async function postmasterPid(client) {
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  try {
    return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${rows[0].pid}/status`, 'utf8'))?.[1]) || undefined;
  } catch {
    return undefined;
  }
}

/** Reads every `watch` entry (`{ name: () => cpuSeconds }`) now; `perRequest(n)` is then the CPU ms each used per request since. */
export function cpuMeter(watch) {
  const before = Object.fromEntries(Object.entries(watch).map(([name, read]) => [name, read()]));
  return { perRequest: (n) => Object.fromEntries(Object.entries(watch).map(([name, read]) => [name, ((read() - before[name]) * 1000) / n])) };
}

export const rssMb = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
