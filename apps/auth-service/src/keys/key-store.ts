import { randomUUID } from 'node:crypto';
import { TOKEN, type Jwks } from '@um/contracts';
import { withTransaction, type Pool, type PoolClient } from '@um/platform';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface KeySet {
  signing: SigningKey;
  jwks: Jwks;
}

/** Key id bound to the key's birth, so ids sort by age and never collide. */
const newKid = () => `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;

/** Create a new Ed25519 signing key; from the next refresh on, every replica signs with it. */
export async function createSigningKey(pool: Pool | PoolClient): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair(TOKEN.algorithm, { extractable: true });
  const kid = newKid();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN.algorithm, use: 'sig' };
  await pool.query('INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)', [
    kid,
    TOKEN.algorithm,
    JSON.stringify(await exportJWK(privateKey)),
    JSON.stringify(publicJwk),
  ]);
  return kid;
}

/** The first replica to start creates the key; the others wait on the lock and find it. */
export async function ensureSigningKey(pool: Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('auth_service.signing_keys'))");
    const { rows } = await client.query('SELECT 1 FROM signing_keys LIMIT 1');
    if (!rows.length) await createSigningKey(client);
  });
}

/**
 * All keys verify (and are published); the one that signs is the newest key older than
 * `activationDelayMs`. A rotated key is thus published by every replica before any replica signs
 * with it, so no gateway can meet a token whose key its JWKS source does not know yet. On a first
 * start, when no key is that old, the oldest key signs.
 */
export async function loadKeySet(pool: Pool, activationDelayMs = 0, now = Date.now()): Promise<KeySet> {
  const { rows } = await pool.query<{ kid: string; private_jwk: JWK; public_jwk: Jwks['keys'][number]; created_at: Date }>(
    'SELECT kid, private_jwk, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC, kid DESC',
  );
  const signing = rows.find((r) => now - r.created_at.getTime() >= activationDelayMs) ?? rows[rows.length - 1];
  if (!signing) throw new Error('no signing key: ensureSigningKey must run first');
  const privateKey = (await importJWK(signing.private_jwk, TOKEN.algorithm)) as CryptoKey;
  return { signing: { kid: signing.kid, privateKey }, jwks: { keys: rows.map((r) => r.public_jwk) } };
}
