import { RegisterUser } from '@um/contracts';
import { withTransaction } from '@um/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteUser } from '../src/application/delete-user.js';
import { confirmEmail, issueEmailConfirmation, requestEmailConfirmation } from '../src/application/email-confirmation.js';
import { getUser } from '../src/application/queries.js';
import { registerUser } from '../src/application/register-user.js';
import { readStream } from '../src/event-store/event-store.js';
import { rebuildUsersProjection } from '../src/projections/users-projection.js';
import { meta, newUser, rejection, usersFixture, streamOfUser } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
});
afterAll(() => fx?.close());

const register = (o: Record<string, unknown> = {}) => registerUser(fx.deps, RegisterUser.parse(newUser(o)), meta);

/** Every row of every table of every schema in the database that mentions `needle`, as text. */
async function findEverywhere(needle: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: fx.databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const hits: string[] = [];
    for (const { s, t } of tables) {
      try {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${s}"."${t}" x WHERE x::text ILIKE $1`, [`%${needle}%`]);
        if (rows[0].n > 0) hits.push(`${s}.${t}`);
      } catch (e) {
        // Another test's schema dropped since we listed it: nothing of ours was there.
        if (!['42P01', '3F000'].includes((e as { code?: string }).code ?? '')) throw e;
      }
    }
    return hits;
  } finally {
    await client.end();
  }
}

describe('crypto-shredding', () => {
  it('stores personal data in events only in encrypted form', async () => {
    const input = newUser({ fio: `Plain Text ${Date.now()}` });
    const user = await registerUser(fx.deps, RegisterUser.parse(input), meta);
    const { rows } = await fx.pool.query('SELECT payload::text AS p FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1)', [user.id]);
    for (const value of [input.username, input.email, input.fio]) expect(rows[0].p).not.toContain(value);
    expect((await readStream(fx.pool, await streamOfUser(fx.pool, user.id)))[0]!.event).toMatchObject({ data: { username: input.username, email: input.email, fio: input.fio } });
  });

  it('leaves no readable email, username or fio anywhere in Postgres after a delete, and a rebuild does not bring them back', async () => {
    const input = newUser({ fio: `Erasable Person ${Date.now()}` });
    const user = await registerUser(fx.deps, RegisterUser.parse(input), meta);
    await issueEmailConfirmation(fx.deps, input.email);
    expect(await findEverywhere(input.username)).toEqual([`${fx.schema}.users`]);

    await deleteUser(fx.deps, user.id, meta);
    for (const value of [input.username, input.email, input.fio]) expect(await findEverywhere(value), value).toEqual([]);

    const history = await readStream(fx.pool, await streamOfUser(fx.pool, user.id));
    expect(history.map((e) => [e.type, e.event === undefined])).toEqual([
      ['UserRegistered', true],
      ['UserDeleted', false],
    ]);
    await withTransaction(fx.pool, (c) => rebuildUsersProjection(c));
    for (const value of [input.username, input.email, input.fio]) expect(await findEverywhere(value), value).toEqual([]);
    expect((await rejection(getUser(fx.pool, user.id))).code).toBe('not_found');
  });
});

describe('email confirmation', () => {
  it('confirms with a single-use token, stored only as a hash', async () => {
    const user = await register();
    const issued = await issueEmailConfirmation(fx.deps, user.email.toUpperCase());
    if (issued.status !== 'issued') throw new Error('expected a token');
    expect(issued.user_id).toBe(user.id);
    expect(await findEverywhere(issued.token)).toEqual([]);

    const confirmed = await confirmEmail(fx.deps, issued.token, meta);
    expect(confirmed.email_verified).toBe(true);
    expect((await getUser(fx.pool, user.id)).email_verified).toBe(true);
    const again = await rejection(confirmEmail(fx.deps, issued.token, meta));
    expect(again.code).toBe('bad_request');
    expect(await issueEmailConfirmation(fx.deps, user.email)).toEqual({ status: 'already_verified', user_id: user.id });
    const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1) AND type = 'EmailConfirmed'", [
      user.id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('answers unknown, used and expired tokens alike', async () => {
    const user = await register();
    const used = await issueEmailConfirmation(fx.deps, user.email);
    const expiring = await issueEmailConfirmation({ ...fx.deps, emailConfirmation: { ttlSeconds: -1, resendIntervalSeconds: 60 } }, user.email);
    if (used.status !== 'issued' || expiring.status !== 'issued') throw new Error('expected tokens');
    await confirmEmail(fx.deps, used.token, meta);
    const bodies = await Promise.all([
      rejection(confirmEmail(fx.deps, 'no-such-token', meta)),
      rejection(confirmEmail(fx.deps, used.token, meta)),
      rejection(confirmEmail(fx.deps, expiring.token, meta)),
    ]);
    expect(new Set(bodies.map((b) => JSON.stringify(b.toBody()))).size).toBe(1);
    expect(bodies[0].code).toBe('bad_request');
  });

  it('spends a token once even when clicked twice at the same time', async () => {
    const user = await register();
    const issued = await issueEmailConfirmation(fx.deps, user.email);
    if (issued.status !== 'issued') throw new Error('expected a token');
    const results = await Promise.allSettled([confirmEmail(fx.deps, issued.token, meta), confirmEmail(fx.deps, issued.token, meta)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('rate-limits new links and tells when to retry', async () => {
    const user = await register();
    const limited = await rejection(requestEmailConfirmation(fx.deps, user.id, meta));
    expect(limited.code).toBe('resource_exhausted');
    expect(limited.retryAfterSeconds).toBeGreaterThan(50);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
    const later = { ...fx.deps, clock: () => new Date(Date.now() + 61_000) };
    expect(await requestEmailConfirmation(later, user.id, meta)).toEqual({ status: 'accepted' });
    const { rows } = await fx.pool.query(
      "SELECT count(*)::int AS n FROM events WHERE stream_id = (SELECT stream_id FROM user_ids WHERE id = $1) AND type = 'EmailConfirmationRequested'",
      [user.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('counts the interval from the last request to the second: 429 users.confirmation_rate_limited with Retry-After before, a new link exactly at it', async () => {
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    const at = (ms: number) => ({ ...fx.deps, clock: () => new Date(t0.getTime() + ms) });
    const user = await registerUser(at(0), RegisterUser.parse(newUser()), meta);
    const limited = await rejection(requestEmailConfirmation(at(59_500), user.id, meta));
    expect(limited.toBody()).toMatchObject({
      code: 'resource_exhausted',
      id: 'users.confirmation_rate_limited',
      message: 'A confirmation email was sent recently; try again in 1 s',
    });
    expect(limited.retryAfterSeconds).toBe(1);
    expect(await requestEmailConfirmation(at(60_000), user.id, meta)).toEqual({ status: 'accepted' });
    // The interval starts again from that request, not from the registration.
    expect((await rejection(requestEmailConfirmation(at(100_000), user.id, meta))).retryAfterSeconds).toBe(20);
  });

  it('refuses a new link for a confirmed address with 409, whatever the interval', async () => {
    const user = await register();
    const issued = await issueEmailConfirmation(fx.deps, user.email);
    if (issued.status !== 'issued') throw new Error('expected a token');
    await confirmEmail(fx.deps, issued.token, meta);
    expect((await rejection(requestEmailConfirmation(fx.deps, user.id, meta))).code).toBe('already_exists');
  });
});
