import { identityKey } from '@um/contracts';
import { AppError, violatedUniqueConstraint } from '@um/platform';
import type pg from 'pg';
import { usernameSkeleton } from '../domain/username-skeleton.js';

type TakenField = 'username' | 'email' | 'lookalike';

const UNIQUE_FIELD: Record<string, TakenField> = {
  users_username_key_uniq: 'username',
  users_email_key_uniq: 'email',
  users_username_skeleton_uniq: 'lookalike',
};

/** The 409 for taken usernames or emails, naming each field; `lookalike`: the username looks like a taken one. */
export function takenError(fields: TakenField[], cause?: unknown): AppError {
  const named = fields.map((f) => (f === 'lookalike' ? 'username' : f));
  return new AppError(
    'already_exists',
    fields[0] === 'lookalike' ? 'users.username_lookalike' : `users.${fields[0]!}_taken`,
    `A user with this ${named.join(' and ')} already exists`,
    fields.map((f) => (f === 'lookalike' ? { field: 'username', message: 'is too similar to an existing username' } : { field: f, message: 'is already taken' })),
    { cause },
  );
}

/** A unique-index violation on username or email, as the 409 naming the field; any other error as it is. */
export function uniqueViolation(e: unknown): unknown {
  const field = UNIQUE_FIELD[violatedUniqueConstraint(e) ?? ''];
  if (!field) return e;
  return takenError([field], e);
}

/**
 * Refuse a username or email another user holds (ignoring case), before any costly work. The unique
 * indexes still decide the races that slip past this look-up.
 */
export async function assertNotTaken(db: pg.Pool | pg.PoolClient, wanted: { username?: string | undefined; email?: string | undefined }, exceptId?: number): Promise<void> {
  const { rows } = await db.query<{ username_taken: boolean; email_taken: boolean; lookalike_taken: boolean }>(
    `SELECT bool_or(username_key = $1) AS username_taken, bool_or(email_key = $2) AS email_taken,
            bool_or(username_skeleton = $4 AND username_key <> $1) AS lookalike_taken
       FROM users WHERE (username_key = $1 OR email_key = $2 OR username_skeleton = $4) AND ($3::bigint IS NULL OR id <> $3)`,
    [
      wanted.username ? identityKey(wanted.username) : null,
      wanted.email ? identityKey(wanted.email) : null,
      exceptId ?? null,
      wanted.username ? usernameSkeleton(wanted.username) : null,
    ],
  );
  // An exact match says more than a look-alike: name the username once.
  const taken = (['username', 'lookalike', 'email'] as const).filter((f) => rows[0]?.[`${f}_taken`] && !(f === 'lookalike' && rows[0]?.username_taken));
  if (taken.length) throw takenError(taken);
}
