import type { User } from '@um/contracts';
import { AppError } from '@um/platform';
import { readStream, streamOf } from '../event-store/event-store.js';
import { userById } from '../read-model/users-repository.js';
import type { UsersDeps } from './deps.js';

/** A link sent by email, as held: when, until when, whether used. Never the token or its hash. */
interface LinkRecord {
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Everything users-service holds about one user, readable (the right of access). */
export interface UsersServiceData {
  /** The user as the API shows it; null once erased. */
  user: User | null;
  /** Every event of the user's stream, oldest first, personal data decrypted; `data` is null where it was erased. */
  events: Array<{
    event_id: string;
    type: string;
    version: number;
    occurred_at: string;
    actor_id: string | null;
    request_id: string | null;
    data: Record<string, unknown> | null;
  }>;
  /** That a password is set and since when: never the hash. */
  password: { set: boolean; updated_at: string | null };
  /** Whether a second factor is active: never its secret or the recovery codes' hashes. */
  mfa: { enabled: boolean; pending_enrolment: boolean; enabled_at: string | null; recovery_codes_unused: number };
  email_confirmations: LinkRecord[];
  password_resets: LinkRecord[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const links = (rows: Array<{ created_at: Date; expires_at: Date; used_at: Date | null }>): LinkRecord[] =>
  rows.map((r) => ({ created_at: r.created_at.toISOString(), expires_at: r.expires_at.toISOString(), used_at: iso(r.used_at) }));

/**
 * What this service holds about a user, for an export of their data: the projection, the events
 * decrypted with the user's data key, and the facts (not the secrets) of their credentials, second
 * factor and pending links. An erased user's stream still answers with its ids and dates.
 */
export async function exportUserData(deps: UsersDeps, userId: number): Promise<UsersServiceData> {
  const db = deps.pool;
  const streamId = await streamOf(db, userId);
  const stream = streamId ? await readStream(db, streamId) : [];
  if (!stream.length) throw new AppError('not_found', 'users.not_found', 'User not found');
  const [user, credentials, totp, codes, confirmations, resets] = await Promise.all([
    userById(db, userId),
    db.query<{ updated_at: Date }>('SELECT updated_at FROM credentials WHERE user_id = $1', [userId]),
    db.query<{ confirmed_at: Date | null }>('SELECT confirmed_at FROM mfa_totp WHERE user_id = $1', [userId]),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]),
    db.query<{ created_at: Date; expires_at: Date; used_at: Date | null }>(
      'SELECT created_at, expires_at, used_at FROM email_confirmations WHERE user_id = $1 ORDER BY created_at',
      [userId],
    ),
    db.query<{ created_at: Date; expires_at: Date; used_at: Date | null }>('SELECT created_at, expires_at, used_at FROM password_resets WHERE user_id = $1 ORDER BY created_at', [
      userId,
    ]),
  ]);
  const enabledAt = totp.rows[0]?.confirmed_at ?? null;
  return {
    user: user ?? null,
    events: stream.map((e) => ({
      event_id: e.eventId,
      type: e.type,
      version: e.streamVersion,
      occurred_at: e.recordedAt.toISOString(),
      actor_id: e.metadata.actor_id ?? null,
      request_id: e.metadata.request_id ?? null,
      data: e.event ? (e.event.data as Record<string, unknown>) : null,
    })),
    password: { set: credentials.rows.length > 0, updated_at: iso(credentials.rows[0]?.updated_at ?? null) },
    mfa: { enabled: enabledAt !== null, pending_enrolment: totp.rows.length > 0 && enabledAt === null, enabled_at: iso(enabledAt), recovery_codes_unused: codes.rows[0]!.n },
    email_confirmations: links(confirmations.rows),
    password_resets: links(resets.rows),
  };
}
