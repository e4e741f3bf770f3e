import { Consumers, PublishedUserEvent, Rpcs, usersEventsStream, usersEventWildcard } from '@um/contracts';
import type { ConsumerMetrics } from './consumer-metrics.js';
import { AppError, consumeDurable, parseJson, type JetStreamClient, type JetStreamManager, type JsMsg, type Logger, type Pool, type RpcClient } from '@um/platform';

/** Give up on a message failing with an unexpected (non-delivery) error after this many tries. */
const MAX_UNEXPECTED_FAILURES = 20;

export interface UsersEventsDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: Pool;
  rpc: Pick<RpcClient, 'call'>;
  namespace: string | undefined;
  /** `JETSTREAM_REPLICAS`: copies of the users stream if this consumer is the first to need it. */
  replicas: number;
  log: Logger;
  sendEmailConfirmation: (email: string) => Promise<'sent' | 'already_verified'>;
  sendEmailChangedNotice: (oldEmail: string, newEmail: string) => Promise<void>;
  sendEmailChangeConfirmation: (newEmail: string, token: string, expiresAt: Date) => Promise<void>;
  sendEmailChangeRequested: (oldEmail: string, newEmail: string, cancelToken: string, cancelExpiresAt: Date) => Promise<void>;
  sendAddressInUse: (email: string) => Promise<void>;
  sendPasswordReset: (email: string, token: string, expiresAt: Date) => Promise<void>;
  sendPasswordResetNotice: (email: string) => Promise<void>;
  retry: { baseMs: number; maxMs: number };
  metrics?: ConsumerMetrics;
}

/**
 * What a failure means for the message: retry without limit (a service or the SMTP server is away
 * for a while), retry a bounded number of times (an unexpected error), or never succeed.
 */
export function classify(err: unknown): 'transient' | 'unexpected' | 'permanent' {
  if (err instanceof AppError) {
    if (['unavailable', 'timeout', 'resource_exhausted'].includes(err.code)) return 'transient';
    return err.code === 'internal' ? 'unexpected' : 'permanent';
  }
  const { responseCode, code } = err as { responseCode?: number; code?: string };
  // SMTP replies: 4xx is "try later", 5xx "never".
  if (typeof responseCode === 'number') return responseCode >= 500 && responseCode < 600 ? 'permanent' : 'transient';
  // The SMTP server or the network is away.
  if (code && TRANSIENT_CODES.has(code)) return 'transient';
  // Anything else (a bug, a malformed envelope) is retried a bounded number of times.
  return 'unexpected';
}

/** nodemailer and socket error codes meaning "the server could not be reached for now". */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EPROTOCOL']);

/**
 * mail-service's durable consumer of the users events. Exactly one email per event: an event id
 * already recorded is acknowledged without sending; a new one is recorded, then acknowledged, only
 * after the SMTP server accepted the message. Delivery failures are redelivered with exponential
 * backoff, without limit; a message that can never be processed is terminated and kept in
 * `dead_letters`.
 */
export class UsersEventsConsumer {
  private stopConsuming: (() => Promise<void>) | undefined;
  private stopped = false;

  constructor(private readonly d: UsersEventsDeps) {}

  async start(): Promise<void> {
    const { stream, durable, stop } = await consumeDurable(
      { ...this.d, stream: usersEventsStream(this.d.namespace), durable: Consumers.mail, filterSubject: usersEventWildcard(this.d.namespace), ackWaitMs: 60_000, maxMessages: 20 },
      (m) => this.handle(m),
      (err, m) => this.d.log.error({ err, seq: m.seq }, 'unexpected error handling a message'),
    );
    this.stopConsuming = stop;
    this.d.log.info({ stream, durable }, 'consuming users events');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopConsuming?.();
  }

  /** What each event type is mailed as; an event type not here sends nothing. Each answers the outcome recorded for the event. */
  private readonly handlers: Partial<Record<PublishedUserEvent['type'], (event: PublishedUserEvent) => Promise<string>>> = {
    UserRegistered: (e) => this.process(e.data.user_id),
    EmailConfirmationRequested: (e) => this.process(e.data.user_id),
    // Only an address change is mailed: `handle` acknowledges other profile updates unread.
    UserProfileUpdated: (e) => this.processEmailChange(e.event_id),
    EmailChangeRequested: (e) => this.processEmailChangeRequest(e.event_id),
    PasswordResetRequested: (e) => this.processResetRequest(e.event_id),
    PasswordReset: (e) => this.processResetNotice(e.data.user_id),
  };

  async handle(m: JsMsg): Promise<void> {
    const parsed = PublishedUserEvent.safeParse(parseJson(m.string()));
    if (!parsed.success) return this.deadLetter(m, `not a valid users event: ${parsed.error.message}`);
    const event = parsed.data;
    const handler = this.handlers[event.type];
    if (!handler || (event.type === 'UserProfileUpdated' && !event.data.fields.includes('email'))) return m.ack();
    const log = this.d.log.child({ event_id: event.event_id, type: event.type, user_id: event.data.user_id, ...(event.request_id ? { request_id: event.request_id } : {}) });

    const seen = await this.d.pool.query('SELECT 1 FROM processed_events WHERE event_id = $1', [event.event_id]);
    if (seen.rowCount) {
      log.info('already processed; acknowledged again');
      return m.ack();
    }
    try {
      const outcome = await handler(event).catch((err: unknown) => {
        // The account is gone: nobody to write to.
        if (err instanceof AppError && err.code === 'not_found') return 'user_gone';
        throw err;
      });
      await this.d.pool.query('INSERT INTO processed_events (event_id, type, outcome) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING', [
        event.event_id,
        event.type,
        outcome,
      ]);
      m.ack();
      log.info({ outcome }, 'email handled');
    } catch (err) {
      const deliveries = m.info.deliveryCount;
      const kind = classify(err);
      this.d.metrics?.failures.inc({ kind });
      if (kind === 'permanent' || (kind === 'unexpected' && deliveries >= MAX_UNEXPECTED_FAILURES)) return this.deadLetter(m, String(err));
      const delay = Math.min(this.d.retry.baseMs * 2 ** Math.min(deliveries - 1, 20), this.d.retry.maxMs);
      log.warn({ err: String(err), deliveries, retry_in_ms: delay }, 'email failed; will retry');
      if (!this.stopped) m.nak(delay);
    }
  }

  /** Send one part of an event's mail once: a retry after one part failed sends only the others. */
  private async once(eventId: string, part: string, send: () => Promise<unknown>): Promise<void> {
    const done = await this.d.pool.query('SELECT 1 FROM sent_parts WHERE event_id = $1 AND part = $2', [eventId, part]);
    if (done.rowCount) return;
    await send();
    await this.d.pool.query('INSERT INTO sent_parts (event_id, part) VALUES ($1, $2) ON CONFLICT DO NOTHING', [eventId, part]);
  }

  /** The email for one user: nothing when the account is already confirmed. */
  private async process(userId: number): Promise<string> {
    const user = await this.d.rpc.call(Rpcs.users.get, { user_id: userId }, { requestId: `mail:${userId}` });
    if (user.email_verified) return 'already_verified';
    return this.d.sendEmailConfirmation(user.email);
  }

  /**
   * A changed address (by an admin, or confirmed from the new address): a confirmation link to the
   * new one unless it is confirmed already, a notice to the old one.
   */
  private async processEmailChange(eventId: string): Promise<string> {
    const change = await this.d.rpc.call(Rpcs.users.emailChange, { event_id: eventId }, { requestId: `mail:${eventId}` });
    await this.once(eventId, 'confirm_new_address', () =>
      this.d.sendEmailConfirmation(change.new_email).catch((err) => {
        // The address changed again since: that change has its own event and email.
        if (err instanceof AppError && err.code === 'not_found') return;
        throw err;
      }),
    );
    await this.once(eventId, 'notify_old_address', () => this.d.sendEmailChangedNotice(change.old_email, change.new_email));
    return 'email_change_sent';
  }

  /**
   * The user asked for a new address: the link that makes the change goes to the new address, a
   * notice with the link that cancels it to the current one. A new address another account holds
   * gets only a word that it is in use (the requester's reply was the same either way).
   */
  private async processEmailChangeRequest(eventId: string): Promise<string> {
    const issued = await this.d.rpc.call(Rpcs.users.issueEmailChange, { event_id: eventId }, { requestId: `mail:${eventId}` });
    if (issued.status === 'superseded') return issued.status;
    if (issued.status === 'taken') {
      await this.d.sendAddressInUse(issued.new_email);
      return 'address_in_use_sent';
    }
    await this.once(eventId, 'confirm_new_address', () => this.d.sendEmailChangeConfirmation(issued.new_email, issued.confirm_token, new Date(issued.confirm_expires_at)));
    await this.once(eventId, 'cancel_to_old_address', () =>
      this.d.sendEmailChangeRequested(issued.old_email, issued.new_email, issued.cancel_token, new Date(issued.cancel_expires_at)),
    );
    return 'email_change_links_sent';
  }

  /**
   * A reset link for the latest request only (users-service answers `superseded` for an older one,
   * whose link a newer request replaced). A redelivery before the send was recorded issues a fresh
   * link, which replaces the one in a mail that may have gone out: the newest mail always works. An
   * unconfirmed address gets a confirmation link instead: a reset link goes only to a verified one.
   */
  private async processResetRequest(eventId: string): Promise<string> {
    const issued = await this.d.rpc.call(Rpcs.users.issuePasswordReset, { event_id: eventId }, { requestId: `mail:${eventId}` });
    if (issued.status === 'superseded') return issued.status;
    if (issued.status === 'unverified') return `unverified_${await this.d.sendEmailConfirmation(issued.email)}`;
    await this.d.sendPasswordReset(issued.email, issued.token, new Date(issued.expires_at));
    return 'reset_link_sent';
  }

  /** After a reset: a notice to the account's address. */
  private async processResetNotice(userId: number): Promise<string> {
    const { email } = await this.d.rpc.call(Rpcs.users.get, { user_id: userId }, { requestId: `mail:${userId}` });
    await this.d.sendPasswordResetNotice(email);
    return 'reset_notice_sent';
  }

  private async deadLetter(m: JsMsg, error: string): Promise<void> {
    await this.d.pool.query('INSERT INTO dead_letters (stream_sequence, subject, payload, error, deliveries) VALUES ($1, $2, $3, $4, $5)', [
      m.seq,
      m.subject,
      m.string().slice(0, 100_000),
      error.slice(0, 2000),
      m.info.deliveryCount,
    ]);
    // No reason with the term: NATS 2.9 does not understand `+TERM <reason>`, leaves the message
    // unacknowledged and redelivers it after the ack wait (the reason is kept in dead_letters).
    m.term();
    this.d.metrics?.deadLetters.inc();
    this.d.log.error({ seq: m.seq, subject: m.subject, error }, 'message can never be processed: terminated and kept in dead_letters');
  }
}
