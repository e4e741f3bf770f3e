import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Bounds how many async jobs run at once; the rest wait in FIFO order. A finishing job hands its
 * slot straight to the next waiter (p-limit), so a newcomer cannot barge in and exceed the limit.
 */
export class Semaphore {
  private readonly limiter: LimitFunction;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    this.limiter = pLimit(limit);
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    return this.limiter(job);
  }

  /** Jobs waiting for a slot (the queue-length metric). */
  get pending(): number {
    return this.limiter.pendingCount;
  }
}
