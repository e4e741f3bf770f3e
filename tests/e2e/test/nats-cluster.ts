import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually } from '@um/testkit';
import { freePort } from './free-port.js';
import { NATS_BIN } from './private-nats.js';

export interface NatsNode {
  name: string;
  url: string;
  proc: ChildProcess;
}

/**
 * Three (or `size`) local nats-server processes forming one JetStream cluster, each with its own
 * client port, route port and store directory: what the compose file runs, on one machine.
 */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsNode[],
    private readonly storeRoot: string,
  ) {}

  static async start(size = 3): Promise<NatsCluster> {
    const bin = NATS_BIN;
    if (!bin) throw new Error('This test runs a NATS cluster of its own: install nats-server (on PATH or /usr/sbin) or set NATS_SERVER_BIN');
    const storeRoot = mkdtempSync(join(tmpdir(), 'um-nats-cluster-'));
    const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
    const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(',');
    const nodes = ports.map((p, i) => {
      const name = `n${i + 1}`;
      const args = ['-a', '127.0.0.1', '-p', String(p.client), '-n', name, '-js', '-sd', join(storeRoot, name)];
      args.push('--cluster_name', 'um', '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes);
      return { name, url: `nats://127.0.0.1:${p.client}`, proc: spawn(bin, args, { stdio: 'ignore' }) };
    });
    const cluster = new NatsCluster(nodes, storeRoot);
    await cluster.waitForJetStream();
    return cluster;
  }

  /** Every node's client URL, as `NATS_URL` takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  node(name: string): NatsNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no NATS node named ${name}`);
    return node;
  }

  /** Kill one node outright (SIGKILL, as a crashed machine): the others keep the quorum. */
  async kill(name: string): Promise<void> {
    const { proc } = this.node(name);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async ({ proc }) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = once(proc, 'exit');
        proc.kill('SIGTERM');
        await exited;
      }),
    );
    rmSync(this.storeRoot, { recursive: true, force: true });
  }

  /** Ready once the nodes have met and chosen a JetStream leader: a stream with one copy per node can be made. */
  private async waitForJetStream(): Promise<void> {
    await eventually(
      async () => {
        const nc = await connect({ servers: this.url, reconnect: false });
        try {
          const jsm = await jetstreamManager(nc);
          await jsm.streams.add({
            name: 'cluster_probe',
            subjects: ['cluster.probe'],
            storage: StorageType.Memory,
            retention: RetentionPolicy.Limits,
            num_replicas: this.nodes.length,
          });
          await jsm.streams.delete('cluster_probe');
          return true;
        } finally {
          await nc.close();
        }
      },
      30_000,
      250,
    );
  }
}
