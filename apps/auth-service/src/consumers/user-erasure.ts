import { Consumers, PublishedUserEvent, streamName, usersEventSubject } from '@um/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  ensureUsersStream,
  nanos,
  parseJson,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type Logger,
  type Pool,
} from '@um/platform';

export interface UserErasureDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: Pool;
  namespace: string | undefined;
  log: Logger;
}

/** Everything auth-service keeps about one user: sessions (their refresh tokens cascade), the password epoch, throttle counters, MFA tickets. */
export async function eraseUser(pool: Pool, userId: string): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  await pool.query('DELETE FROM user_security WHERE user_id = $1', [userId]);
  await pool.query('DELETE FROM login_throttle WHERE user_id = $1', [userId]);
  await pool.query('DELETE FROM mfa_tickets WHERE user_id = $1', [userId]);
}

/**
 * auth-service's durable consumer of `UserDeleted`: when users-service erases a user, the rows auth
 * keeps about that user go too. Idempotent (deleting twice deletes nothing), so at-least-once is
 * enough; a failure is redelivered after a pause.
 */
export class UserErasureConsumer {
  private messages: ConsumerMessages | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly d: UserErasureDeps) {}

  async start(): Promise<void> {
    const stream = await ensureUsersStream(this.d.jsm, this.d.namespace);
    const durable = streamName(this.d.namespace, Consumers.auth);
    await this.d.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: usersEventSubject(this.d.namespace, 'UserDeleted'),
      ack_wait: nanos(30_000),
      max_deliver: -1,
    });
    const consumer = await this.d.js.consumers.get(stream, durable);
    this.messages = await consumer.consume({ max_messages: 50, expires: 5_000 });
    this.done = (async () => {
      for await (const m of this.messages!) await this.handle(m);
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.done;
  }

  private async handle(m: JsMsg): Promise<void> {
    const event = PublishedUserEvent.safeParse(parseJson(m.string()));
    if (!event.success || event.data.type !== 'UserDeleted') {
      this.d.log.error({ seq: m.seq, subject: m.subject }, 'not a UserDeleted event: terminated');
      return m.term();
    }
    try {
      await eraseUser(this.d.pool, event.data.data.user_id);
      m.ack();
      this.d.log.info({ user_id: event.data.data.user_id, event_id: event.data.event_id }, 'user erased from auth-service');
    } catch (err) {
      this.d.log.warn({ err: String(err), seq: m.seq }, 'erasing a user failed; will retry');
      m.nak(5_000);
    }
  }
}
