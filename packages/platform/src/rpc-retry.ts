/**
 * When to give up on one attempt of an RPC and ask again. Over NATS request/reply nobody tells the
 * caller that the replica holding its request died, so responders send signs of life while they
 * work (`rpc-progress.ts`) and the caller ends an attempt after a silence: no progress and no answer
 * for a few times the gaps it measures between signs of life of that subject (rolling p99 × a
 * margin, never below a floor). A replica that is alive but slow is never cut short, so a slow
 * bcrypt check is not asked twice; a dead one costs its callers one silence, then another replica
 * answers. The overall deadline (`RPC_TIMEOUT_MS`) bounds every attempt together.
 */
export interface RetryOptions {
  /** Attempts per call, each ended by a silence or by the deadline. */
  attempts: number;
  /** How often a responder is asked to send a sign of life while it works. */
  progressIntervalMs: number;
  /** Least silence that ends an attempt, whatever the measurements say. */
  minSilenceMs: number;
  /** Silence that ends an attempt before a subject has enough measurements. */
  initialSilenceMs: number;
  /** Silence timeout = p99 of measured gaps between signs of life × this. */
  silenceFactor: number;
  /** Gaps a subject needs before its p99 is trusted. */
  minSamples: number;
  /** Gaps remembered per subject. */
  window: number;
  /** How long "no responders" (every replica gone, e.g. mid-restart) is retried before the call fails as unavailable. */
  unavailableRetryMs: number;
  /** First pause after "no responders"; doubled each time, up to 8×. */
  unavailableBackoffMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 3,
  progressIntervalMs: 100,
  minSilenceMs: 300,
  initialSilenceMs: 1_000,
  silenceFactor: 2,
  minSamples: 20,
  window: 256,
  unavailableRetryMs: 2_000,
  unavailableBackoffMs: 50,
};

/**
 * The last `size` durations of one subject, and their quantiles. The window is kept sorted as
 * samples come and go (a binary search and a shift of at most `size` numbers), so a quantile asked
 * for on every call costs no copy and no sort.
 */
export class LatencyWindow {
  /** In arrival order: a ring once full, `next` is the oldest. */
  private readonly samples: number[] = [];
  private next = 0;
  private readonly sorted: number[] = [];

  constructor(private readonly size: number) {}

  add(ms: number): void {
    if (this.samples.length < this.size) this.samples.push(ms);
    else {
      this.sorted.splice(lowerBound(this.sorted, this.samples[this.next]!), 1);
      this.samples[this.next] = ms;
    }
    this.next = (this.next + 1) % this.size;
    this.sorted.splice(lowerBound(this.sorted, ms), 0, ms);
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (nearest rank), or undefined with no samples. */
  quantile(q: number): number | undefined {
    if (!this.sorted.length) return undefined;
    return this.sorted[Math.min(this.sorted.length - 1, Math.ceil(q * this.sorted.length) - 1)];
  }
}

/** The first index of ascending `xs` whose value is not below `x`. */
function lowerBound(xs: number[], x: number): number {
  let [lo, hi] = [0, xs.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RetryPolicy {
  private readonly latency = new Map<string, LatencyWindow>();

  constructor(readonly options: RetryOptions = DEFAULT_RETRY) {}

  /** The default policy with a process's `RPC_ATTEMPTS` and `RPC_UNAVAILABLE_RETRY_MS`. */
  static fromConfig(config: { RPC_ATTEMPTS: number; RPC_UNAVAILABLE_RETRY_MS: number }): RetryPolicy {
    return new RetryPolicy({ ...DEFAULT_RETRY, attempts: config.RPC_ATTEMPTS, unavailableRetryMs: config.RPC_UNAVAILABLE_RETRY_MS });
  }

  /** Record a gap of `ms` between signs of life (request to first message, or message to message) of `subject`. */
  observe(subject: string, ms: number): void {
    let w = this.latency.get(subject);
    if (!w) this.latency.set(subject, (w = new LatencyWindow(this.options.window)));
    w.add(ms);
  }

  /** The p99 gap the silence timeout is derived from, once there are enough samples. */
  p99(subject: string): number | undefined {
    const w = this.latency.get(subject);
    return w && w.count >= this.options.minSamples ? w.quantile(0.99) : undefined;
  }

  /** How long without a sign of life ends an attempt of `subject`. */
  silenceTimeout(subject: string): number {
    const p99 = this.p99(subject);
    const measured = p99 === undefined ? this.options.initialSilenceMs : p99 * this.options.silenceFactor;
    return Math.round(Math.max(this.options.minSilenceMs, measured));
  }

  /** Pause before asking again after the n-th (1-based) "no responders". */
  backoff(n: number): number {
    return this.options.unavailableBackoffMs * 2 ** Math.min(n - 1, 3);
  }
}
