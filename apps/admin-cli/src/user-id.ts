import { UserId } from '@um/contracts';
import { UsageError } from './command.js';

/** A user id as the API shows it (`id` of a user object): the one place the command line parses ids. */
export type UserIdArg = UserId['user_id'];

export function parseUserId(text: string | undefined): UserIdArg {
  if (text === undefined || text === '') throw new UsageError('a user id is required');
  const parsed = UserId.shape.user_id.safeParse(text.trim());
  if (!parsed.success) throw new UsageError(`"${text}" is not a user id: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
