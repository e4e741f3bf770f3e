import { Headers as H } from '@um/contracts';
import { createInbox, headers, NoRespondersError, TimeoutError, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/**
 * The "still working" protocol of our RPCs. Over NATS request/reply nobody tells a caller that the
 * replica holding its request died, so the caller asks for signs of life: its request carries the
 * `um-progress` header with an interval in milliseconds, and the responder sends an empty message
 * with that header to the reply subject every interval until it answers. The caller ends an attempt
 * when no sign of life came for its silence timeout (a few intervals), instead of waiting for a
 * deadline sized for the slowest legitimate call (a bcrypt check under load). A live replica that
 * is merely slow keeps its request: it is never cut short and asked twice.
 */

/** Bounds of the interval a responder accepts; anything else gets no progress messages. */
const MIN_INTERVAL_MS = 20;
const MAX_INTERVAL_MS = 10_000;
/** At most this many progress messages per request (the NATS `allow_responses.max` is sized from it). */
export const MAX_PROGRESS_MESSAGES = 2_000;

/** Responder side: start sending progress for `msg` if its caller asked; returns the stop function. */
export function sendProgress(msg: Msg): () => void {
  const interval = Number(msg.headers?.get(H.progress));
  if (!msg.reply || !Number.isInteger(interval) || interval < MIN_INTERVAL_MS || interval > MAX_INTERVAL_MS) return () => undefined;
  // Made at the first sign of life: most requests are answered before one is due.
  let h: MsgHdrs | undefined;
  let sent = 0;
  const timer = setInterval(() => {
    if (++sent > MAX_PROGRESS_MESSAGES) return clearInterval(timer);
    if (!h) (h = headers()).set(H.progress, '1');
    try {
      msg.respond(undefined, { headers: h });
    } catch {
      // The connection is closing: the caller's silence timer takes over.
      clearInterval(timer);
    }
  }, interval);
  return () => clearInterval(timer);
}

/** An attempt ended because its responder fell silent (as opposed to the call's deadline passing). */
export class SilenceError extends TimeoutError {}

export interface AttemptOptions {
  /** The attempt ends with a timeout after this long whatever happens (the rest of the call's deadline). */
  timeoutMs: number;
  /** The attempt ends with a timeout when no message came for this long. */
  silenceMs: number;
  /** Interval the responder is asked to send progress at. */
  progressIntervalMs: number;
  /** Each message's distance from the previous one (or from the request): what silence timeouts are derived from. */
  onSignOfLife?: (gapMs: number) => void;
}

type Waiter = (msg: Msg) => void;

/**
 * Caller side: requests whose replies (progress and answer) arrive on one wildcard inbox
 * subscription, like nats.js's own request multiplexer, so an attempt costs no SUB/UNSUB.
 */
export class ProgressRequester {
  private readonly prefix: string;
  private sub: Subscription | undefined;
  private readonly waiting = new Map<string, Waiter>();
  private seq = 0;

  constructor(private readonly nc: NatsConnection) {
    // The connection's own inbox prefix (`connectOptions` sets one per service, and NATS permissions
    // let each service read only its own inboxes), as nats.js's request multiplexer uses it.
    this.prefix = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  }

  /** One attempt: the answer, or SilenceError (the responder fell silent), TimeoutError (the deadline) or NoRespondersError. */
  attempt(subject: string, payload: string, h: MsgHdrs, o: AttemptOptions): Promise<Msg> {
    this.sub ??= this.nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        this.waiting.get(msg.subject.slice(this.prefix.length + 1))?.(msg);
      },
    });
    const token = (++this.seq).toString(36);
    h.set(H.progress, String(o.progressIntervalMs));
    return new Promise<Msg>((resolve, reject) => {
      let last = performance.now();
      let silence: ReturnType<typeof setTimeout> | undefined;
      const finish = (outcome: { msg: Msg } | { err: Error }) => {
        if (!this.waiting.delete(token)) return;
        clearTimeout(deadline);
        clearTimeout(silence);
        if ('msg' in outcome) resolve(outcome.msg);
        else reject(outcome.err);
      };
      // A silence only ends the attempt before the deadline would; otherwise the deadline does.
      const arm = () => {
        clearTimeout(silence);
        if (o.silenceMs < o.timeoutMs) silence = setTimeout(() => finish({ err: new SilenceError() }), o.silenceMs);
      };
      const deadline = setTimeout(() => finish({ err: new TimeoutError() }), o.timeoutMs);
      this.waiting.set(token, (msg) => {
        const now = performance.now();
        o.onSignOfLife?.(now - last);
        last = now;
        if (msg.headers?.hasError && msg.headers.code === 503) return finish({ err: new NoRespondersError(subject) });
        if (msg.headers?.has(H.progress)) return arm();
        finish({ msg });
      });
      arm();
      try {
        this.nc.publish(subject, payload, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (e) {
        finish({ err: e instanceof Error ? e : new Error(String(e)) });
      }
    });
  }
}
