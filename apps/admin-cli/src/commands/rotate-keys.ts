import { writeJson, type Command } from '../command.js';
import { withAuthService } from '../services.js';

export const rotateKeys: Command = {
  name: 'rotate-keys',
  summary: 'add a new token signing key to auth-service; old keys verify until their tokens expire',
  help: `Usage: npm run admin -- rotate-keys

Add a new Ed25519 signing key to auth-service. Every replica publishes it at its next key refresh
(KEY_REFRESH_MS) and signs with it once it is KEY_ACTIVATION_DELAY_MS old, so no gateway meets a
token whose key it does not know yet. Tokens signed with older keys keep verifying until they
expire; keys replaced longer ago than a token can live are removed. With SIGNING_KEY_KEK set, the
new key is stored sealed under it; a KEK that cannot open the stored keys is refused before
anything is added.

Options:
  -h, --help    this help

Prints {"kid", "removed", "signs_after_ms"} as JSON. Environment: DATABASE_URL, AUTH_DB_SCHEMA,
SIGNING_KEY_KEK (and SIGNING_KEY_KEK_PREVIOUS), KEY_ACTIVATION_DELAY_MS, as for auth-service.`,
  options: {},
  positionals: [],
  async run(ctx) {
    const { kid, removed, signsAfterMs } = await withAuthService(ctx, (auth) => auth.rotateKeys());
    writeJson(ctx.stdout, { kid, removed, signs_after_ms: signsAfterMs });
  },
};
