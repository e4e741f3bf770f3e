import { writeFile } from 'node:fs/promises';
import { UsageError, writeJson, type Command } from '../command.js';
import { withAuthService, withUsersService } from '../services.js';
import { parseUserId } from '../user-id.js';

export const exportUser: Command = {
  name: 'export-user',
  summary: 'everything held about a user, as JSON (the right of access)',
  help: `Usage: npm run -s admin -- export-user <id> [--output <file>]

Everything the system holds about one user, as one JSON document (the GDPR right of access):
users-service's user record, every event of the user's stream with its personal data decrypted,
whether a password is set and since when, whether a second factor is active, pending email and
password-reset links (dates only); auth-service's sessions (dates, state), the last password
change, failed-login counters and pending second-step tickets. Never a password hash, a TOTP
secret, a token or a token hash.

Arguments:
  <id>                 the user's id, as the API shows it
Options:
  -o, --output <file>  write to a new file (created readable by its owner only) instead of stdout
  -h, --help           this help

Environment: DATABASE_URL, USERS_DB_SCHEMA, AUTH_DB_SCHEMA, as for the services.`,
  options: { output: { type: 'string', short: 'o' } },
  positionals: ['id'],
  async run(ctx) {
    const userId = parseUserId(ctx.positionals[0]);
    const output = ctx.values.output as string | undefined;
    if (output === '') throw new UsageError('--output needs a file name');
    const users = await withUsersService(ctx, 'none', (u) => u.exportUser(userId));
    const auth = await withAuthService(ctx, (a) => a.exportUser(userId));
    const document = { user_id: userId, exported_at: new Date().toISOString(), users_service: users, auth_service: auth };
    if (!output) {
      writeJson(ctx.stdout, document);
      return;
    }
    try {
      await writeFile(output, `${JSON.stringify(document, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST') throw new UsageError(`${output} exists: give a new file name (an export is never written over a file)`);
      throw e;
    }
    ctx.stderr.write(`exported to ${output}\n`);
  },
};
