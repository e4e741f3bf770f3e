import { createPool, migrate, type Logger } from '@um/platform';
import { exportUserData, type AuthServiceData } from './application/export-user.js';
import { signingKeyRing, type AuthConfig } from './config.js';
import { rotateSigningKey } from './keys/key-store.js';
import { MIGRATIONS_DIR } from './service.js';

export { loadConfig as loadAuthConfig, type AuthConfig } from './config.js';
export type { AuthServiceData } from './application/export-user.js';

/** auth-service's operations for its admin command line, on the service's own key store and data. */
export async function openAuthAdmin(config: AuthConfig, log: Logger) {
  await migrate(config.DATABASE_URL, config.AUTH_DB_SCHEMA, MIGRATIONS_DIR, log);
  const pool = createPool(config.DATABASE_URL, config.AUTH_DB_SCHEMA, 2);
  return {
    /** A new signing key (sealed under SIGNING_KEY_KEK when set); keys too old to verify a live token are removed. */
    async rotateKeys(): Promise<{ kid: string; removed: string[]; signsAfterMs: number }> {
      return { ...(await rotateSigningKey(pool, signingKeyRing(config), config.KEY_ACTIVATION_DELAY_MS)), signsAfterMs: config.KEY_ACTIVATION_DELAY_MS };
    },
    exportUser: (userId: string): Promise<AuthServiceData> => exportUserData(pool, userId),
    close: (): Promise<void> => pool.end(),
  };
}
