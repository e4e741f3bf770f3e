import { randomBytes } from 'node:crypto';
import { identityKey, type EmailConfirmationIssued, type User } from '@um/contracts';
import { AppError, sha256 } from '@um/platform';
import { userByEmail } from '../read-model/users-repository.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';

/** One answer for unknown, used and expired links: a link reveals nothing about why it fails. */
const invalidLink = () => new AppError('bad_request', 'users.confirmation_invalid', 'This confirmation link is invalid, already used or expired');

/**
 * A fresh single-use token for the account that has this address. Only its hash is kept, with a hash
 * of the address, so a link sent to a former address cannot confirm a new one.
 */
export async function issueEmailConfirmation(deps: UsersDeps, email: string): Promise<EmailConfirmationIssued> {
  const user = await userByEmail(deps.pool, email);
  if (!user) throw new AppError('not_found', 'users.not_found', 'User not found');
  if (user.email_verified) return { status: 'already_verified', user_id: user.id };
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(deps.clock().getTime() + deps.emailConfirmation.ttlSeconds * 1000);
  await deps.pool.query('INSERT INTO email_confirmations (token_hash, user_id, email_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(token),
    user.id,
    sha256(identityKey(user.email)),
    expiresAt,
  ]);
  return { status: 'issued', user_id: user.id, token, expires_at: expiresAt.toISOString() };
}

/** Spend a token and mark the address verified, in one transaction. */
export async function confirmEmail(deps: UsersDeps, token: string, meta: CallerMeta): Promise<User> {
  const tokenHash = sha256(token);
  const { rows } = await deps.pool.query<{ user_id: string }>('SELECT user_id FROM email_confirmations WHERE token_hash = $1', [tokenHash]);
  const userId = rows[0] ? Number(rows[0].user_id) : undefined;
  if (!userId) throw invalidLink();
  return handleCommand(deps, { userId }, { type: 'ConfirmEmail', data: { user_id: userId } }, meta, {
    prepare: async (client) => {
      const { rows: found } = await client.query<{ email_hash: Buffer; valid: boolean; current_email: string | null }>(
        `SELECT c.email_hash, (c.used_at IS NULL AND c.expires_at > $2) AS valid, u.email AS current_email
           FROM email_confirmations c LEFT JOIN users u ON u.id = c.user_id
          WHERE c.token_hash = $1 FOR UPDATE OF c`,
        [tokenHash, deps.clock()],
      );
      const t = found[0];
      if (!t || !t.valid || !t.current_email || !t.email_hash.equals(sha256(identityKey(t.current_email)))) throw invalidLink();
      await client.query('UPDATE email_confirmations SET used_at = $2 WHERE token_hash = $1', [tokenHash, deps.clock()]);
    },
    after: (client) => getUser(client, userId),
  });
}

/** Ask for another confirmation email; at most one per resend interval. */
export async function requestEmailConfirmation(deps: UsersDeps, userId: number, meta: CallerMeta): Promise<{ status: 'accepted' }> {
  // The time is read once the stream is locked: a request that committed first is seen.
  const command = () => ({
    type: 'RequestEmailConfirmation' as const,
    data: { user_id: userId },
    now: deps.clock(),
    resendIntervalSeconds: deps.emailConfirmation.resendIntervalSeconds,
  });
  return handleCommand(deps, { userId }, command, meta, { after: async () => ({ status: 'accepted' as const }) });
}
