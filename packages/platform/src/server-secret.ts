import { randomBytes } from 'node:crypto';
import { withTransaction, type Pool } from './db.js';
import { openSecret, sealSecret, type KeyRing } from './key-envelope.js';

/**
 * A 256-bit server secret by name, shared by every replica through the auth schema: the first
 * replica to ask makes it. Used as an HMAC key (throttle keys, device cookies), never sent anywhere.
 * Stored like the signing keys: sealed under the current KEK when one is set (a clear or
 * previous-KEK secret is resealed on the way), in clear otherwise.
 */
export async function serverSecret(pool: Pool, name: string, keks: KeyRing): Promise<Buffer> {
  const aad = `server_secret:${name}`;
  return withTransaction(pool, async (client) => {
    const fresh = randomBytes(32);
    await client.query('INSERT INTO server_secrets (name, secret, secret_sealed) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      name,
      keks.current ? null : fresh,
      keks.current ? JSON.stringify(sealSecret(keks.current, fresh, aad)) : null,
    ]);
    const { rows } = await client.query<{ secret: Buffer | null; secret_sealed: { kek?: string } | null }>(
      'SELECT secret, secret_sealed FROM server_secrets WHERE name = $1 FOR UPDATE',
      [name],
    );
    const row = rows[0]!;
    const secret = row.secret ?? openSecret(keks, row.secret_sealed, aad);
    if (keks.current && (row.secret || row.secret_sealed?.kek !== keks.current.id))
      await client.query('UPDATE server_secrets SET secret = NULL, secret_sealed = $2 WHERE name = $1', [name, JSON.stringify(sealSecret(keks.current, secret, aad))]);
    return secret;
  });
}
