import { writeJson, type Command } from '../command.js';
import { progressBar } from '../progress.js';
import { withUsersService } from '../services.js';

export const rebuildProjection: Command = {
  name: 'rebuild-projection',
  summary: 'replay every event into a fresh users table, with a progress bar',
  help: `Usage: npm run admin -- rebuild-projection

Empty users-service's users table and project every stored event into it again, in one
transaction: readers see the old table until the new one commits, and writers wait. Events whose
personal data was erased (deleted users) bring nothing back. Usernames that look like older ones,
accepted before the look-alike rule existed, are kept and counted as "grandfathered".

Options:
  -h, --help    this help

Shows progress and ETA on stderr; prints {"events", "users", "grandfathered", "duration_ms"} as
JSON. Environment: DATABASE_URL, USERS_DB_SCHEMA, as for users-service.`,
  options: {},
  positionals: [],
  async run(ctx) {
    const started = performance.now();
    const bar = progressBar('rebuild-projection', 'events', ctx.stderr);
    const result = await withUsersService(ctx, 'none', (users) => users.rebuildProjection(bar.update)).finally(bar.stop);
    if (result.grandfathered) ctx.stderr.write(`${result.grandfathered} usernames that look like older accounts' were kept (grandfathered, without a skeleton)\n`);
    writeJson(ctx.stdout, { ...result, duration_ms: Math.round(performance.now() - started) });
  },
};
