import { z } from 'zod';

/**
 * Revocation records in the revocations bucket. `user.<id>`: the user's tokens whose `ver` is below
 * `below_version` are refused (role change; deletion refuses every version); `revoked_before` (ms,
 * tokens issued before it) is the older form, still honoured. `session.<id>`: every token of that
 * session is refused.
 */
export const UserRevocation = z
  .object({ below_version: z.number().int().nonnegative().optional(), revoked_before: z.number().int().optional() })
  .refine((r) => r.below_version !== undefined || r.revoked_before !== undefined, 'names a version or an instant');
export type UserRevocation = z.infer<typeof UserRevocation>;
export const SessionRevocation = z.object({ revoked_at: z.number().int() });
export const revocationKey = { user: (id: number) => `user.${id}`, session: (id: string) => `session.${id}` } as const;
