import { violatedUniqueConstraint, type Logger, type Pool } from '@um/platform';
import { usernameSkeleton } from '../domain/username-skeleton.js';

interface Row {
  id: string;
  username: string;
  created_at: Date;
}

/**
 * Fill `username_skeleton` for rows written before the column existed (or by an older replica), oldest
 * first. A row whose skeleton an older account already holds is a look-alike registered before the
 * rule: it keeps NULL (grandfathered, logged), and new look-alikes of it are still refused through the
 * older account. Safe to run on every start and on several replicas at once. Returns the rows filled.
 */
export async function backfillUsernameSkeletons(pool: Pool, log: Logger, batchSize = 1000): Promise<number> {
  let filled = 0;
  let after: { created_at: Date; id: string } | undefined;
  for (;;) {
    const { rows } = await pool.query<Row>(
      `SELECT id, username, created_at FROM users
        WHERE username_skeleton IS NULL AND ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2::bigint))
        ORDER BY created_at, id LIMIT $3`,
      [after?.created_at ?? null, after?.id ?? null, batchSize],
    );
    if (!rows.length) break;
    filled += await fillBatch(pool, log, rows);
    after = rows[rows.length - 1];
  }
  if (filled) log.info({ filled }, 'username skeletons backfilled');
  return filled;
}

/** One statement for the batch; when a look-alike makes it fail, row by row so only the look-alikes stay empty. */
async function fillBatch(pool: Pool, log: Logger, rows: Row[]): Promise<number> {
  const skeletons = rows.map((r) => usernameSkeleton(r.username));
  try {
    const { rowCount } = await pool.query(
      `UPDATE users u SET username_skeleton = v.skeleton FROM unnest($1::bigint[], $2::text[]) AS v(id, skeleton)
        WHERE u.id = v.id AND u.username_skeleton IS NULL`,
      [rows.map((r) => r.id), skeletons],
    );
    return rowCount ?? 0;
  } catch (e) {
    if (violatedUniqueConstraint(e) === undefined) throw e;
  }
  let filled = 0;
  for (const [i, row] of rows.entries()) {
    try {
      const { rowCount } = await pool.query('UPDATE users SET username_skeleton = $2 WHERE id = $1 AND username_skeleton IS NULL', [row.id, skeletons[i]]);
      filled += rowCount ?? 0;
    } catch (e) {
      if (violatedUniqueConstraint(e) === undefined) throw e;
      // The username itself is personal data: the id is enough to find the pair.
      log.warn({ user_id: row.id }, "username looks like an older account's: grandfathered without a skeleton");
    }
  }
  return filled;
}
