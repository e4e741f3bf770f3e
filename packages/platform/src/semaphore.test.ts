import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Let every queued microtask (and their follow-ups) run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Semaphore(bad)).toThrow(RangeError);
    expect(new Semaphore(3).limit).toBe(3);
  });

  it('never runs more than `limit` jobs at once, and uses every slot', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const job = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(1 + (i % 4) * 3);
      running--;
      return i * 2;
    };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => sem.run(job(i))));
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(running).toBe(0);
    expect(sem.pending).toBe(0);
  });

  it('keeps waiting jobs queued until a slot frees', async () => {
    const sem = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      sem.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect(sem.pending).toBe(2);
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    expect(sem.pending).toBe(1);
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
  });

  it('starts waiting jobs in FIFO order', async () => {
    const sem = new Semaphore(1);
    const started: string[] = [];
    const first = deferred();
    const all = [
      sem.run(async () => {
        started.push('a');
        await first.promise;
      }),
    ];
    for (const name of ['b', 'c', 'd', 'e']) {
      all.push(
        sem.run(async () => {
          started.push(name);
          await sleep(1);
        }),
      );
    }
    await settle();
    expect(started).toEqual(['a']);
    expect(sem.pending).toBe(4);
    first.resolve();
    await Promise.all(all);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('hands a freed slot to the next waiter before a newcomer can take it', async () => {
    const sem = new Semaphore(1);
    let running = 0;
    let peak = 0;
    const started: string[] = [];
    const enter = (name: string) => {
      started.push(name);
      running++;
      peak = Math.max(peak, running);
    };
    const gateA = deferred();
    const doneA = gateA.promise.then(() => {
      running--;
    });
    const a = sem.run(() => {
      enter('a');
      return doneA;
    });
    const gateB = deferred();
    const b = sem.run(async () => {
      enter('b');
      await gateB.promise;
      running--;
    });
    await settle();
    expect(started).toEqual(['a']);
    // A newcomer arriving in the very turn A finishes (its reaction is queued right after the
    // semaphore's own) must queue behind B instead of barging into the slot.
    let c: Promise<void> | undefined;
    void doneA.then(() => {
      c = sem.run(async () => {
        enter('c');
        running--;
      });
    });
    gateA.resolve();
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(peak).toBe(1);
    gateB.resolve();
    await Promise.all([a, b]);
    await c;
    expect(c).toBeDefined();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(peak).toBe(1);
  });

  it('releases the slot when a job throws or rejects, and passes the error on', async () => {
    const sem = new Semaphore(1);
    const boom = new Error('boom');
    await expect(sem.run(async () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      sem.run(async () => {
        throw new TypeError('sync-ish');
      }),
    ).rejects.toThrow(TypeError);
    // The slot is free again: the next job runs at once.
    let ran = false;
    await sem.run(async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(sem.pending).toBe(0);
  });

  it('a failing job lets the queued ones proceed', async () => {
    const sem = new Semaphore(1);
    const gate = deferred();
    const failing = sem.run(async () => {
      await gate.promise;
      throw new Error('fail');
    });
    const next = sem.run(async () => 'next');
    await settle();
    expect(sem.pending).toBe(1);
    gate.resolve();
    await expect(failing).rejects.toThrow('fail');
    await expect(next).resolves.toBe('next');
    expect(sem.pending).toBe(0);
  });
});
