import { UsageError, writeJson, type Command } from '../command.js';
import { withUsersService } from '../services.js';
import { parseUserId } from '../user-id.js';

export const eraseUser: Command = {
  name: 'erase-user',
  summary: 'delete a user and crypto-shred their personal data, as DELETE /users/{id} does',
  help: `Usage: npm run admin -- erase-user <id> --yes

Delete a user exactly as DELETE /users/{id} does (the right to erasure): in one transaction the
user's data key is destroyed (the personal data in their stored events can no longer be read), the
user record, password hash, second factor and pending links are removed, and a UserDeleted
tombstone is appended. The relay publishes the tombstone like any other event: auth-service then
erases the user's sessions and counters, and every gateway refuses the user's tokens (revoked at
once too when NATS is reachable). The last admin cannot be erased. Irreversible, hence --yes.

Arguments:
  <id>          the user's id, as the API shows it
Options:
  --yes         confirm the erasure (required)
  -h, --help    this help

Prints {"user_id", "status": "erased"} as JSON. Environment: DATABASE_URL, USERS_DB_SCHEMA, and
NATS as for users-service (optional: without it the relay writes the revocation when it publishes).`,
  options: { yes: { type: 'boolean' } },
  positionals: ['id'],
  async run(ctx) {
    const userId = parseUserId(ctx.positionals[0]);
    if (!ctx.values.yes) throw new UsageError('erasing a user is irreversible: add --yes to confirm');
    await withUsersService(ctx, 'revocations', (users) => users.eraseUser(userId));
    writeJson(ctx.stdout, { user_id: userId, status: 'erased' });
  },
};
