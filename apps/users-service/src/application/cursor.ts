import { AppError } from '@um/platform';

/**
 * Page cursors: the sort key of the last user of a page, as base64url JSON, so the key can change
 * (e.g. to another id type) without the API changing. Opaque to clients; never trusted further than
 * its shape.
 */
export const encodeCursor = (id: number): string => Buffer.from(JSON.stringify([id])).toString('base64url');

/** The sort key a cursor carries; a 422 naming `cursor` when it is not one this service issued. */
export function decodeCursor(cursor: string): number {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== 1 || !Number.isSafeInteger(key[0]) || (key[0] as number) < 1)
    throw new AppError('invalid_argument', 'users.cursor_invalid', 'Invalid input: cursor is not one this server issued', [
      { field: 'cursor', message: 'is not a cursor from a Link header' },
    ]);
  return key[0] as number;
}
