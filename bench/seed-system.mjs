// Bulk registration for benchmarks: N synthetic people (data.mjs) registered through the real write
// model (the decider folds an empty stream and decides RegisterUser; personal data is sealed with a
// fresh per-user key as the event store does; the users row is the projection's own registrationRow),
// written as multi-row INSERTs, a batch per transaction, into tables whose indexes are live, as real
// registrations find them. What it skips, and why:
// - bcrypt: every seeded user shares one hash of SEED_PASSWORD at the configured cost (a million
//   cost-12 hashes would take days); logins as seeded users still check a real hash.
// - the relay: its checkpoint is set past the seeded events, so a million synthetic registrations
//   are not published to JetStream nor mailed. Registrations after the seed are published as usual.
// - per-request work (rate limits, the taken-name look-up): the data is known to be unique.
import bcrypt from 'bcrypt';
import pg from 'pg';
import { decide } from '@um/users-service/dist/domain/decide.js';
import { fold } from '@um/users-service/dist/domain/user.js';
import { newDataKey, sealPayload } from '@um/users-service/dist/event-store/pii-codec.js';
import { REGISTRATION_COLUMNS, registrationRow } from '@um/users-service/dist/projections/users-projection.js';
import { uuidv7 } from '@um/platform';
import { person } from './data.mjs';

export const SEED_PASSWORD = 'bench seed password 1';

/** Postgres types of REGISTRATION_COLUMNS, for `unnest` of one array per column. */
const COLUMN_TYPES = {
  id: 'bigint',
  username: 'text',
  username_key: 'text',
  email: 'text',
  email_key: 'text',
  config: 'jsonb',
  role: 'text',
  email_verified: 'boolean',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  version: 'integer',
  username_skeleton: 'text',
};

/**
 * The events, keys, projection rows and credentials of people `from`..`to`-1, registered at `t0 + i`
 * ms. Each gets a stream (UUIDv7, the internal key) and the id `firstId + i` (as `user_ids` would
 * give it in registration order; the identity is moved past them at the end).
 */
function buildBatch(from, to, t0, firstId, passwordHash) {
  const keys = { ids: [], keys: [], userIds: [] };
  const events = { ids: [], streams: [], types: [], payloads: [], recorded: [] };
  const rows = REGISTRATION_COLUMNS.map(() => []);
  const metadata = JSON.stringify({ request_id: 'bench-seed', actor_id: null });
  for (let i = from; i < to; i++) {
    const p = person(i);
    const at = t0 + i;
    const stream = uuidv7(at);
    const userId = firstId + i;
    const decided = decide({ type: 'RegisterUser', data: { user_id: userId, ...p, role: 'user' } }, fold([]));
    if (!Array.isArray(decided) || decided.length !== 1) throw new Error(`the decider refused seed user ${i}: ${JSON.stringify(decided)}`);
    const [event] = decided;
    const key = newDataKey();
    keys.ids.push(stream);
    keys.keys.push(key);
    keys.userIds.push(userId);
    events.ids.push(uuidv7(at));
    events.streams.push(stream);
    events.types.push(event.type);
    events.payloads.push(JSON.stringify(sealPayload(event.data, key, stream)));
    events.recorded.push(new Date(at));
    registrationRow(event.data, new Date(at), 1).forEach((v, c) => rows[c].push(v));
  }
  return { keys, events, rows, metadata, passwordHash };
}

async function writeBatch(client, b) {
  await client.query('BEGIN');
  await client.query('INSERT INTO user_ids (id, stream_id) SELECT * FROM unnest($1::bigint[], $2::uuid[])', [b.keys.userIds, b.keys.ids]);
  await client.query('INSERT INTO user_keys (user_id, data_key) SELECT * FROM unnest($1::uuid[], $2::bytea[])', [b.keys.ids, b.keys.keys]);
  await client.query(
    `INSERT INTO events (event_id, stream_id, stream_version, type, payload, metadata, recorded_at)
     SELECT e, s, 1, t, p, $6::jsonb, r FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::timestamptz[]) AS x(e, s, t, p, r)`,
    [b.events.ids, b.events.streams, b.events.types, b.events.payloads, b.events.recorded, b.metadata],
  );
  await client.query(
    `INSERT INTO users (${REGISTRATION_COLUMNS.join(', ')})
     SELECT * FROM unnest(${REGISTRATION_COLUMNS.map((c, i) => `$${i + 1}::${COLUMN_TYPES[c]}[]`).join(', ')})`,
    b.rows,
  );
  await client.query('INSERT INTO credentials (user_id, password_hash) SELECT u, $2 FROM unnest($1::bigint[]) AS u', [b.keys.userIds, b.passwordHash]);
  await client.query('COMMIT');
}

/**
 * Register `n` people into `schema` (migrated, empty of them). Returns seconds taken. The relay's
 * checkpoint ends past the seeded events (see above).
 */
export async function seedSystem({ url, schema, n, bcryptCost, batch = 5000, onProgress = () => undefined }) {
  const started = performance.now();
  const passwordHash = await bcrypt.hash(SEED_PASSWORD, bcryptCost);
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema},public` });
  await client.connect();
  try {
    const t0 = Date.now() - n - 60_000;
    const firstId = Number((await client.query('SELECT COALESCE(max(id), 0) + 1 AS id FROM user_ids')).rows[0].id);
    for (let from = 0; from < n; from += batch) {
      await writeBatch(client, buildBatch(from, Math.min(n, from + batch), t0, firstId, passwordHash));
      onProgress(Math.min(n, from + batch));
    }
    // Registrations after the seed take the ids after it.
    await client.query(`ALTER TABLE user_ids ALTER COLUMN id RESTART WITH ${firstId + n}`);
    await client.query(
      `INSERT INTO relay_checkpoints (name, transaction_id, global_position, updated_at)
       SELECT 'jetstream', transaction_id, global_position, now() FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()`,
    );
    // Autovacuum's analyze would follow such a load within a minute; the planner needs it now.
    await client.query('ANALYZE users');
  } finally {
    await client.end();
  }
  return (performance.now() - started) / 1000;
}
