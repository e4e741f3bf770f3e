import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Consumers, Rpcs, streamName, Streams, usersEventSubject, type PublishedUserEvent, type Rpc } from '@um/contracts';
import { AppError, createLogger, createMetricsRegistry, createPool, jetStreamOf, migrate, type JetStreamClient, type JetStreamManager, type Registry } from '@um/platform';
import { dropSchemas, eventually, testInfra, uniqueId } from '@um/testkit';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailService } from '../src/mail-service.js';
import type { MailMessage } from '../src/mail/transport.js';
import { MIGRATIONS_DIR } from '../src/service.js';

const log = createLogger('mail-service-test', 'silent');
let schema: string;
let namespace: string;
let pool: ReturnType<typeof createPool>;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let metrics: Registry;
let service: ReturnType<typeof createMailService>;

/** Every message the fake SMTP server accepted. */
const sent: MailMessage[] = [];
/** Sends still to refuse, as an SMTP server that cannot be reached refuses them. */
let refuseNext = 0;

const transport = {
  sendMail: async (message: MailMessage) => {
    if (refuseNext > 0) {
      refuseNext--;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' });
    }
    sent.push(message);
    return { messageId: randomUUID() };
  },
  close: () => undefined,
};

/** The user of each address-change and reset request event sent. */
const changes = new Map<string, number>();
const taken = new Set<number>();
const resets = new Map<string, number>();

/** users-service as mail-service sees it: every user id N has the address user-N@example.org, unconfirmed. */
const emailOf = (userId: number) => `user-${userId}@example.org`;
const rpc = {
  call: (async (r: Rpc, input: any) => {
    if (r.name === Rpcs.users.get.name) return { id: input.user_id, username: `user_${input.user_id}`, email: emailOf(input.user_id), email_verified: false, role: 'user' };
    // user N asks to move to new-N@example.org, which another account may hold (`taken`)
    if (r.name === Rpcs.users.issueEmailChange.name) {
      const userId = changes.get(input.event_id)!;
      if (taken.has(userId)) return { status: 'taken', new_email: `new-${userId}@example.org` };
      const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
      return {
        status: 'issued',
        user_id: userId,
        old_email: emailOf(userId),
        new_email: `new-${userId}@example.org`,
        confirm_token: `confirm-${userId}`,
        confirm_expires_at: later(1),
        cancel_token: `cancel-${userId}`,
        cancel_expires_at: later(14),
      };
    }
    if (r.name === Rpcs.users.issuePasswordReset.name) return { status: 'unverified', user_id: resets.get(input.event_id)!, email: emailOf(resets.get(input.event_id)!) };
    if (r.name === Rpcs.users.issueEmailConfirmation.name)
      return { status: 'issued', user_id: Number(input.email.match(/\d+/)[0]), token: `token-for-${input.email}`, expires_at: new Date(Date.now() + 86_400_000).toISOString() };
    throw new AppError('internal', 'internal.unexpected', `unexpected rpc ${r.name}`);
  }) as never,
};

beforeAll(async () => {
  schema = uniqueId('t_mail');
  namespace = uniqueId('mail');
  await migrate(testInfra().databaseUrl, schema, MIGRATIONS_DIR, log);
  pool = createPool(testInfra().databaseUrl, schema);
  nc = await connect({ servers: testInfra().natsUrl });
  ({ js, jsm } = await jetStreamOf(nc));
  metrics = createMetricsRegistry('mail-service-test');
  service = createMailService({
    js,
    jsm,
    pool,
    rpc,
    transport,
    log,
    metrics,
    namespace,
    replicas: 1,
    from: 'User Management <no-reply@example.net>',
    publicUrl: 'https://app.example.net',
    retry: { baseMs: 10, maxMs: 50 },
  });
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await jsm?.streams.delete(streamName(namespace, Streams.usersEvents)).catch(() => undefined);
  await nc?.close();
  await pool?.end();
  await dropSchemas(testInfra().databaseUrl, schema);
});

let lastUserId = 1000;
const registered = (userId: number): PublishedUserEvent => ({
  event_id: randomUUID(),
  type: 'UserRegistered',
  version: 2,
  stream_version: 1,
  occurred_at: new Date().toISOString(),
  data: { user_id: userId, role: 'user' },
});

/** Put a message on the users stream (each with its own message id: JetStream drops none of them as duplicates). */
const deliver = (subject: string, payload: string) => js.publish(subject, payload, { msgID: randomUUID(), timeout: 5000 });

/** Wait until the consumer has settled every message (acknowledged or terminated). */
async function settled(): Promise<void> {
  const [stream, durable] = [streamName(namespace, Streams.usersEvents), streamName(namespace, Consumers.mail)];
  await eventually(async () => {
    const info = await jsm.consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, 10_000);
}

const sentTo = (email: string) => sent.filter((m) => m.to === email);
const counter = async (name: string, labels: Record<string, string> = {}) =>
  (await metrics.getSingleMetric(name)!.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);

describe("mail-service's users-events consumer", () => {
  it('sends one confirmation email for a registration, with a link to confirm the address', async () => {
    const userId = ++lastUserId;
    const event = registered(userId);
    await deliver(usersEventSubject(namespace, 'UserRegistered'), JSON.stringify(event));
    await eventually(async () => sentTo(emailOf(userId)).length === 1, 10_000);
    await settled();
    expect(sentTo(emailOf(userId))).toHaveLength(1);
    expect(sentTo(emailOf(userId))[0]).toMatchObject({ from: 'User Management <no-reply@example.net>', subject: 'Confirm your email address' });
    expect(sentTo(emailOf(userId))[0]!.text).toContain(`https://app.example.net/confirm-email?token=${encodeURIComponent(`token-for-${emailOf(userId)}`)}`);
    const { rows } = await pool.query('SELECT outcome FROM processed_events WHERE event_id = $1', [event.event_id]);
    expect(rows).toEqual([{ outcome: 'sent' }]);
  });

  it('sends it once when the same event is delivered twice', async () => {
    const userId = ++lastUserId;
    const payload = JSON.stringify(registered(userId));
    await deliver(usersEventSubject(namespace, 'UserRegistered'), payload);
    await deliver(usersEventSubject(namespace, 'UserRegistered'), payload);
    await eventually(async () => sentTo(emailOf(userId)).length === 1, 10_000);
    await settled();
    expect(sentTo(emailOf(userId))).toHaveLength(1);
  });

  it('retries a send the SMTP server could not take, and sends it once it can: the email is not lost', async () => {
    const userId = ++lastUserId;
    const before = await counter('um_mail_failures_total', { kind: 'transient' });
    refuseNext = 2;
    await deliver(usersEventSubject(namespace, 'UserRegistered'), JSON.stringify(registered(userId)));
    await eventually(async () => sentTo(emailOf(userId)).length === 1, 10_000);
    await settled();
    expect(refuseNext).toBe(0);
    expect(sentTo(emailOf(userId))).toHaveLength(1);
    expect(await counter('um_mail_failures_total', { kind: 'transient' })).toBe(before + 2);
  });

  it('terminates a message that can never be processed, keeps it in dead_letters and counts it; nothing is sent', async () => {
    const before = { sent: sent.length, dead: await counter('um_mail_dead_letters_total') };
    const ack = await deliver(usersEventSubject(namespace, 'UserRegistered'), '{"not": "a users event"');
    await settled();
    const { rows } = await pool.query('SELECT subject, payload, deliveries FROM dead_letters WHERE stream_sequence = $1', [ack.seq]);
    expect(rows).toEqual([{ subject: usersEventSubject(namespace, 'UserRegistered'), payload: '{"not": "a users event"', deliveries: 1 }]);
    expect(await counter('um_mail_dead_letters_total')).toBe(before.dead + 1);
    expect(sent.length).toBe(before.sent);
  });

  const eventOf = (type: 'EmailChangeRequested' | 'PasswordResetRequested', userId: number): PublishedUserEvent => ({ ...registered(userId), type, data: { user_id: userId } });

  it('an address change: the link that makes it to the new address, the one that cancels it to the current one', async () => {
    const userId = ++lastUserId;
    const event = eventOf('EmailChangeRequested', userId);
    changes.set(event.event_id, userId);
    await deliver(usersEventSubject(namespace, 'EmailChangeRequested'), JSON.stringify(event));
    await eventually(async () => sentTo(`new-${userId}@example.org`).length === 1 && sentTo(emailOf(userId)).length === 1, 10_000);
    await settled();
    expect(sentTo(`new-${userId}@example.org`)[0]!.text).toContain(`https://app.example.net/email-change/confirm?token=confirm-${userId}`);
    const notice = sentTo(emailOf(userId))[0]!;
    expect(notice.subject).toBe('Your email address is about to change');
    expect(notice.text).toContain(`https://app.example.net/email-change/cancel?token=cancel-${userId}`);
    expect(notice.text).not.toContain(`new-${userId}@example.org`);
  });

  it('an address another account holds: only a word to that address, no link to anyone', async () => {
    const userId = ++lastUserId;
    taken.add(userId);
    const event = eventOf('EmailChangeRequested', userId);
    changes.set(event.event_id, userId);
    await deliver(usersEventSubject(namespace, 'EmailChangeRequested'), JSON.stringify(event));
    await eventually(async () => sentTo(`new-${userId}@example.org`).length === 1, 10_000);
    await settled();
    expect(sentTo(`new-${userId}@example.org`)[0]).toMatchObject({ subject: 'This email address already has an account' });
    expect(sentTo(`new-${userId}@example.org`)[0]!.text).not.toContain('token=');
    expect(sentTo(emailOf(userId))).toEqual([]);
  });

  it('a reset asked for an unconfirmed address sends a confirmation link, no reset link', async () => {
    const userId = ++lastUserId;
    const event = eventOf('PasswordResetRequested', userId);
    resets.set(event.event_id, userId);
    await deliver(usersEventSubject(namespace, 'PasswordResetRequested'), JSON.stringify(event));
    await eventually(async () => sentTo(emailOf(userId)).length === 1, 10_000);
    await settled();
    expect(sentTo(emailOf(userId))[0]).toMatchObject({ subject: 'Confirm your email address' });
    const { rows } = await pool.query('SELECT outcome FROM processed_events WHERE event_id = $1', [event.event_id]);
    expect(rows).toEqual([{ outcome: 'unverified_sent' }]);
  });
});
