import { z } from 'zod';

/**
 * The largest user id the API hands out or accepts: 2^53 − 1. JSON clients read numbers as doubles,
 * which hold every integer up to here exactly and no further; Postgres stores ids as bigint.
 */
export const MAX_USER_ID = Number.MAX_SAFE_INTEGER;

/** A user's id: a positive integer, given in registration order and never reused. */
export const UserIdValue = z
  .number({ error: 'must be a user id (a whole number)' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_USER_ID, `must be at most ${MAX_USER_ID}`)
  .meta({ description: 'User id: a positive integer assigned in registration order', example: 42 });
export type UserIdValue = z.infer<typeof UserIdValue>;

/** Decimal digits of a user id as written in a path or a token's `sub`: no sign, no leading zero, no more digits than MAX_USER_ID has. */
const USER_ID_DIGITS = /^[1-9][0-9]{0,15}$/;

/** Whether `s` is the decimal form of a user id (in range). */
export const isUserIdString = (s: string): boolean => USER_ID_DIGITS.test(s) && Number(s) <= MAX_USER_ID;

/** A user id written as text (a path segment, the JWT `sub` claim), parsed to its number. */
export const UserIdString = z
  .string()
  .refine(isUserIdString, 'must be a user id: a whole number from 1 to 9007199254740991')
  .transform(Number)
  .meta({ type: 'integer', minimum: 1, maximum: MAX_USER_ID, example: 42 });

/** Path parameters of `/users/{user_id}` routes (the gateway resolves `me` to the caller first). */
export const UserIdParams = z.object({
  user_id: UserIdString.meta({
    type: 'integer',
    minimum: 1,
    maximum: MAX_USER_ID,
    example: 42,
    description: 'User id (a positive integer; `me` stands for the caller). Anything else is 404.',
  }),
});
