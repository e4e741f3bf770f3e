import { writeJson, type Command } from '../command.js';
import { progressBar } from '../progress.js';
import { withUsersService } from '../services.js';

export const replay: Command = {
  name: 'replay',
  summary: 'republish every stored event to the JetStream events stream, with a progress bar',
  help: `Usage: npm run admin -- replay

Republish every event of users-service's event table, in the relay's order, to the JetStream
stream of users events (created if it is missing): for a new or emptied stream, or consumers that
must see history again. Each message is the thin event the relay publishes, with the event id as
Nats-Msg-Id, so the stream drops what it already holds within its duplicate window, and consumers
that record processed ids (mail-service) do not act twice. The live relay and its checkpoint are
left alone and keep publishing new events meanwhile.

Options:
  -h, --help    this help

Shows progress and ETA on stderr; prints {"events", "duration_ms"} as JSON. Needs NATS (as
users-service: NATS_URL, NATS_NAMESPACE and its credentials) and DATABASE_URL, USERS_DB_SCHEMA.`,
  options: {},
  positionals: [],
  async run(ctx) {
    const started = performance.now();
    const bar = progressBar('replay', 'events', ctx.stderr);
    const events = await withUsersService(ctx, 'publish', (users) => users.replay(bar.update)).finally(bar.stop);
    writeJson(ctx.stdout, { events, duration_ms: Math.round(performance.now() - started) });
  },
};
