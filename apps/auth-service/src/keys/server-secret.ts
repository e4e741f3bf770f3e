import { randomBytes } from 'node:crypto';
import { withTransaction, type Pool } from '@um/platform';

/**
 * A 256-bit server secret by name, shared by every replica through the auth schema: the first
 * replica to ask makes it. Used as an HMAC key (throttle keys, device cookies), never sent anywhere.
 */
export async function serverSecret(pool: Pool, name: string): Promise<Buffer> {
  return withTransaction(pool, async (client) => {
    await client.query('INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32)]);
    const { rows } = await client.query<{ secret: Buffer }>('SELECT secret FROM server_secrets WHERE name = $1', [name]);
    return rows[0]!.secret;
  });
}
