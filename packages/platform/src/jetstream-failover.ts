import { TimeoutError } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';

/**
 * How long a JetStream call keeps trying while the cluster fails over. A stream whose leader's node
 * died answers nothing (no responders, timeouts, 503) until its other copies elect a new leader: a
 * few seconds on a three-node cluster (nats-server waits 4 to 9 s before electing), plus a request timeout.
 */
export const FAILOVER_BUDGET_MS = 15_000;

/** The answers of a JetStream cluster electing a leader: worth trying again shortly, unlike a refusal. */
export function isFailover(e: unknown): boolean {
  // JetStreamNotEnabled (no responders to an API call or a publish) is not exported by the package's entry point.
  return e instanceof TimeoutError || (e instanceof Error && e.name === 'JetStreamNotEnabled') || (e instanceof JetStreamApiError && e.status === 503);
}

/** Run `op`, again after growing pauses while JetStream fails over, for at most `budgetMs`; other errors pass at once. */
export async function throughFailover<T>(op: () => Promise<T>, budgetMs = FAILOVER_BUDGET_MS): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
    try {
      return await op();
    } catch (e) {
      if (!isFailover(e) || Date.now() + pause > deadline) throw e;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
