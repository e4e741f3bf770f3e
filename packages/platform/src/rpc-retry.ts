/**
 * When to give up on one attempt of an RPC and ask again. Over NATS request/reply nobody tells the
 * caller that the replica holding its request died, so the caller bounds each attempt by what the
 * subject usually takes: a rolling p99 of its successful calls times a margin, never below a
 * floor, never above a share of the overall deadline. The last attempt gets whatever time is left,
 * so a legitimately slow answer is cut only by the overall deadline.
 */
export interface RetryOptions {
  /** Attempts per call that may end by the attempt timeout (the last one waits out the deadline). */
  attempts: number;
  /** Least attempt timeout, whatever the measurements say. */
  minAttemptMs: number;
  /** Attempt timeout = p99 of successful calls × this. */
  p99Factor: number;
  /** Successful calls a subject needs before its p99 is trusted; before that an attempt gets deadline / attempts. */
  minSamples: number;
  /** Successful calls remembered per subject. */
  window: number;
  /** How long "no responders" (every replica gone, e.g. mid-restart) is retried before the call fails as unavailable. */
  unavailableRetryMs: number;
  /** First pause after "no responders"; doubled each time, up to 8×. */
  unavailableBackoffMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 3,
  minAttemptMs: 250,
  p99Factor: 2,
  minSamples: 20,
  window: 256,
  unavailableRetryMs: 2_000,
  unavailableBackoffMs: 50,
};

/** The last `size` durations of one subject, and their quantiles. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;
  private sorted: number[] | undefined;

  constructor(private readonly size: number) {}

  add(ms: number): void {
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.sorted = undefined;
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (nearest rank), or undefined with no samples. */
  quantile(q: number): number | undefined {
    if (!this.samples.length) return undefined;
    this.sorted ??= [...this.samples].sort((a, b) => a - b);
    return this.sorted[Math.min(this.sorted.length - 1, Math.ceil(q * this.sorted.length) - 1)];
  }
}

export class RetryPolicy {
  private readonly latency = new Map<string, LatencyWindow>();

  constructor(readonly options: RetryOptions = DEFAULT_RETRY) {}

  /** The default policy with a process's `RPC_ATTEMPTS` and `RPC_UNAVAILABLE_RETRY_MS`. */
  static fromConfig(config: { RPC_ATTEMPTS: number; RPC_UNAVAILABLE_RETRY_MS: number }): RetryPolicy {
    return new RetryPolicy({ ...DEFAULT_RETRY, attempts: config.RPC_ATTEMPTS, unavailableRetryMs: config.RPC_UNAVAILABLE_RETRY_MS });
  }

  /** Record a successful (answered) call of `subject` that took `ms`. */
  observe(subject: string, ms: number): void {
    let w = this.latency.get(subject);
    if (!w) this.latency.set(subject, (w = new LatencyWindow(this.options.window)));
    w.add(ms);
  }

  /** The p99 the attempt timeout is derived from, once there are enough samples. */
  p99(subject: string): number | undefined {
    const w = this.latency.get(subject);
    return w && w.count >= this.options.minSamples ? w.quantile(0.99) : undefined;
  }

  /**
   * Timeout of the next attempt: `attemptsLeft` counts it. The last attempt, and every attempt of
   * an RPC that is not safe to repeat, waits for the rest of the deadline.
   */
  attemptTimeout(subject: string, totalMs: number, remainingMs: number, attemptsLeft: number): number {
    if (attemptsLeft <= 1) return Math.max(1, remainingMs);
    const ceiling = totalMs / this.options.attempts;
    const p99 = this.p99(subject);
    const wanted = p99 === undefined ? ceiling : Math.min(ceiling, Math.max(this.options.minAttemptMs, p99 * this.options.p99Factor));
    return Math.max(1, Math.round(Math.min(wanted, remainingMs)));
  }

  /** Pause before asking again after the n-th (1-based) "no responders". */
  backoff(n: number): number {
    return this.options.unavailableBackoffMs * 2 ** Math.min(n - 1, 3);
  }
}
