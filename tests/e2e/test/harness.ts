import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Buckets, bucketName, streamName, Streams } from '@um/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { dropSchemas, testInfra, uniqueId } from '@um/testkit';
import { freePort } from './free-port.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type App = 'gateway' | 'users-service' | 'auth-service' | 'mail-service';

/** One real process of one app, with its output kept for assertions. */
export class Proc {
  readonly lines: string[] = [];
  /** Once `ready()` (or the gateway's `live()`) has seen it answer: it serves requests. */
  serving = false;
  private exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly app: App,
    readonly child: ChildProcess,
    /** The gateway's API (`''` for a service). */
    readonly url: string,
    /** Where the process says whether it is ready: the gateway's `/readyz`, a service's health port (`HEALTH_PORT`). */
    private readonly readinessUrl: string,
  ) {
    for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => this.lines.push(l));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Parsed JSON log lines. */
  get logs(): Array<Record<string, unknown>> {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /**
   * Until the process answers ready: the gateway's `/readyz` (NATS and both services answer it), a
   * service's health port (NATS connected, its database reachable).
   */
  ready(timeoutMs = 80_000): Promise<void> {
    return this.answers200(this.readinessUrl, 'ready', timeoutMs);
  }

  /** Until the gateway serves at all (`/healthz`), whether or not the services it needs are there. */
  live(timeoutMs = 20_000): Promise<void> {
    if (this.app !== 'gateway') throw new Error(`live() is the gateway's; ${this.name} has ready()`);
    return this.answers200(`${this.url}/healthz`, 'live', timeoutMs);
  }

  private async answers200(url: string, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}):\n${this.output}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status === 200) {
        this.serving = true;
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.name} not ${what} within ${timeoutMs} ms (${url}):\n${this.output}`);
  }

  /** SIGTERM, and the exit code it ended with and how long it took. */
  async stop(): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const code = await this.exited;
    return { code, ms: Date.now() - started };
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  waitExit(): Promise<number | null> {
    return this.exited;
  }
}

/**
 * Start one app. The gateway gets a port of its own unless `PORT` names one; a service gets a health
 * port (`HEALTH_PORT`) of its own unless set, so each process can be asked whether it is ready.
 */
export async function spawnApp(app: App, env: Record<string, string>, name: string = app): Promise<Proc> {
  const own = async (given: string | undefined) => (given && given !== '0' ? given : String(await freePort()));
  const ports = app === 'gateway' ? { PORT: await own(env.PORT) } : { HEALTH_PORT: await own(env.HEALTH_PORT) };
  const child = spawn(process.execPath, [`${ROOT}apps/${app}/dist/main.js`], {
    env: { PATH: process.env.PATH ?? '', ...env, ...ports },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if ('PORT' in ports) {
    const url = `http://127.0.0.1:${ports.PORT}`;
    return new Proc(name, app, child, url, `${url}/readyz`);
  }
  return new Proc(name, app, child, '', `http://127.0.0.1:${ports.HEALTH_PORT}/`);
}

export interface SystemOptions {
  users?: number;
  auth?: number;
  gateways?: number;
  mail?: number;
  env?: Record<string, string>;
  /** Extra environment for every process of one app (its own NATS credentials, say). */
  appEnv?: Partial<Record<App, Record<string, string>>>;
}

/** A whole system on its own NATS namespace and Postgres schemas. */
export class System {
  readonly procs: Proc[] = [];
  readonly namespace = uniqueId('e2e');
  readonly env: Record<string, string>;

  constructor(extraEnv: Record<string, string> = {}) {
    const { databaseUrl, natsUrl } = testInfra();
    this.env = {
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      NATS_NAMESPACE: this.namespace,
      USERS_DB_SCHEMA: `${this.namespace}_users`.toLowerCase(),
      AUTH_DB_SCHEMA: `${this.namespace}_auth`.toLowerCase(),
      MAIL_DB_SCHEMA: `${this.namespace}_mail`.toLowerCase(),
      BCRYPT_COST: '4',
      // Every test request comes from 127.0.0.1: per-address limits are tested on their own.
      REGISTRATION_RATE_LIMIT: '100000',
      LOGIN_THROTTLE_FREE_ATTEMPTS: '100000',
      KEY_REFRESH_MS: '1000',
      KEY_ACTIVATION_DELAY_MS: '2500',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      ...extraEnv,
    };
  }

  static async start(opts: SystemOptions = {}): Promise<System> {
    const sys = new System(opts.env);
    const starting: Proc[] = [];
    const env = (app: App) => opts.appEnv?.[app] ?? {};
    try {
      for (let i = 0; i < (opts.users ?? 1); i++) starting.push(await sys.spawn('users-service', env('users-service'), `users-${i + 1}`));
      for (let i = 0; i < (opts.auth ?? 1); i++) starting.push(await sys.spawn('auth-service', env('auth-service'), `auth-${i + 1}`));
      for (let i = 0; i < (opts.mail ?? 0); i++) starting.push(await sys.spawn('mail-service', env('mail-service'), `mail-${i + 1}`));
      for (let i = 0; i < (opts.gateways ?? 1); i++) starting.push(await sys.spawn('gateway', env('gateway'), `gateway-${i + 1}`));
      await Promise.all(starting.map((p) => p.ready()));
    } catch (e) {
      // A system that did not start is stopped here: the test's afterAll has no `sys` to stop, and
      // processes left running would load every later test of the run.
      await sys.stop().catch(() => undefined);
      throw e;
    }
    return sys;
  }

  async spawn(app: App, env: Record<string, string> = {}, name?: string): Promise<Proc> {
    const p = await spawnApp(app, { ...this.env, ...env }, name);
    this.procs.push(p);
    return p;
  }

  gateways(): Proc[] {
    return this.procs.filter((p) => p.app === 'gateway' && p.child.exitCode === null);
  }

  get url(): string {
    return this.gateways()[0]!.url;
  }

  /** Everything every process printed. */
  get output(): string {
    return this.procs.map((p) => p.output).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    await dropSchemas(this.env.DATABASE_URL!, this.env.USERS_DB_SCHEMA!, this.env.AUTH_DB_SCHEMA!, this.env.MAIL_DB_SCHEMA!);
    // Leave the shared NATS server as we found it: this namespace's stream and bucket go too.
    const nc = await connect({ servers: this.env.NATS_URL!, reconnect: false }).catch(() => undefined);
    if (!nc) return;
    const jsm = await jetstreamManager(nc);
    for (const name of [streamName(this.namespace, Streams.usersEvents), `KV_${bucketName(this.namespace, Buckets.revocations)}`])
      await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  ms: number;
}

/** fetch with JSON in and out, timing included. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, headers: res.headers, body: parsed as T, ms: performance.now() - started };
}

let counter = 0;
export function newUser(overrides: Record<string, unknown> = {}) {
  counter++;
  const s = `${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 5)}`;
  return { username: `e2e_${s}`, email: `e2e_${s}@example.com`, password: `pw-${s}-secret`, fio: `E2E User ${s}`, birthday: '1991-07-15', tags: ['e2e'], ...overrides };
}
