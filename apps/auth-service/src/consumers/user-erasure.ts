import { Consumers, PublishedUserEvent, usersEventsStream, usersEventSubject } from '@um/contracts';
import { consumeDurable, parseJson, type JetStreamClient, type JetStreamManager, type JsMsg, type Logger, type Pool, type PoolClient } from '@um/platform';

export interface UserErasureDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: Pool;
  namespace: string | undefined;
  /** `JETSTREAM_REPLICAS`: copies of the users stream if this consumer is the first to need it. */
  replicas: number;
  log: Logger;
}

/** Everything auth-service keeps about one user: sessions (their refresh tokens cascade), the password epoch, throttle counters, MFA tickets. */
export async function eraseUser(pool: Pool | PoolClient, userId: number): Promise<void> {
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
  private stopConsuming: (() => Promise<void>) | undefined;

  constructor(private readonly d: UserErasureDeps) {}

  async start(): Promise<void> {
    const { stop } = await consumeDurable(
      {
        ...this.d,
        stream: usersEventsStream(this.d.namespace),
        durable: Consumers.auth,
        filterSubject: usersEventSubject(this.d.namespace, 'UserDeleted'),
        ackWaitMs: 30_000,
        maxMessages: 50,
      },
      (m) => this.handle(m),
      (err, m) => this.d.log.error({ err, seq: m.seq }, 'unexpected error handling a message'),
    );
    this.stopConsuming = stop;
  }

  async stop(): Promise<void> {
    await this.stopConsuming?.();
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
