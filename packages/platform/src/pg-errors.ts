/** Postgres's SQLSTATE for a unique-index violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * The unique constraint (index) a failed query violated, or `undefined` when the error is not a
 * unique violation ('' for a violation whose constraint the server did not name).
 */
export function violatedUniqueConstraint(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  if (code !== UNIQUE_VIOLATION) return undefined;
  return typeof constraint === 'string' ? constraint : '';
}
