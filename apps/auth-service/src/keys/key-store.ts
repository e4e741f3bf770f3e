import { randomUUID } from 'node:crypto';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, TOKEN, type Jwks } from '@um/contracts';
import { withTransaction, type Pool, type PoolClient, openSecret, sealSecret, SealedSecretError, type KeyRing, type SealedSecret } from '@um/platform';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface KeySet {
  signing: SigningKey;
  jwks: Jwks;
}

/** What start-up did to keys stored under an older protection. */
export interface KeyUpgrade {
  /** Keys that were in clear and are now sealed under the current KEK. */
  sealed: string[];
  /** Keys that were sealed under the previous KEK and are now sealed under the current one. */
  resealed: string[];
}

interface PrivateRow {
  kid: string;
  private_jwk: JWK | null;
  private_jwk_sealed: SealedSecret | null;
}

/** Key id bound to the key's birth, so ids sort by age and never collide. */
const newKid = () => `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;

/** The private JWK in the form it is stored: sealed under the current KEK (the kid bound as associated data), else clear. */
function storedForm(kid: string, privateJwk: JWK, keks: KeyRing): { clear: JWK | null; sealed: SealedSecret | null } {
  if (!keks.current) return { clear: privateJwk, sealed: null };
  return { clear: null, sealed: sealSecret(keks.current, Buffer.from(JSON.stringify(privateJwk)), kid) };
}

/** The private JWK of a row, opening it if sealed; a KEK problem names the key and what to set. */
function privateJwkOf(row: PrivateRow, keks: KeyRing): JWK {
  if (!row.private_jwk_sealed) return row.private_jwk!;
  try {
    return JSON.parse(openSecret(keks, row.private_jwk_sealed, row.kid).toString('utf8')) as JWK;
  } catch (err) {
    if (!(err instanceof SealedSecretError)) throw err;
    const fix =
      err.reason === 'no_kek'
        ? 'set SIGNING_KEY_KEK to the key-encryption key it was sealed with'
        : err.reason === 'unknown_kek'
          ? 'set SIGNING_KEY_KEK (or, while rotating, SIGNING_KEY_KEK_PREVIOUS) to the key-encryption key it was sealed with'
          : 'the stored key or the KEK is not the one it was sealed with; restore the row or the KEK';
    throw new SealedSecretError(err.reason, `signing key ${row.kid} cannot be decrypted: ${err.message}; ${fix}`);
  }
}

/** Create a new Ed25519 signing key (sealed when a KEK is set); from the next refresh on, every replica signs with it. */
export async function createSigningKey(pool: Pool | PoolClient, keks: KeyRing): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair(TOKEN.algorithm, { extractable: true });
  const kid = newKid();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN.algorithm, use: 'sig' };
  const stored = storedForm(kid, await exportJWK(privateKey), keks);
  await pool.query('INSERT INTO signing_keys (kid, alg, private_jwk, private_jwk_sealed, public_jwk) VALUES ($1, $2, $3, $4, $5)', [
    kid,
    TOKEN.algorithm,
    stored.clear && JSON.stringify(stored.clear),
    stored.sealed && JSON.stringify(stored.sealed),
    JSON.stringify(publicJwk),
  ]);
  return kid;
}

/**
 * The first replica to start creates the key; the others wait on the lock and find it. Under the
 * same lock, in the same transaction, keys stored in clear are sealed when a KEK is set, and keys
 * sealed under the previous KEK are resealed under the current one, so an upgrade or a KEK rotation
 * loses nothing. Every stored key is opened here: a key this configuration cannot open stops the
 * start (SealedSecretError) rather than surfacing later or being silently replaced.
 */
export async function ensureSigningKey(pool: Pool, keks: KeyRing): Promise<KeyUpgrade> {
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('auth_service.signing_keys'))");
    const { rows } = await client.query<PrivateRow>('SELECT kid, private_jwk, private_jwk_sealed FROM signing_keys ORDER BY created_at, kid');
    const upgrade: KeyUpgrade = { sealed: [], resealed: [] };
    if (!rows.length) {
      await createSigningKey(client, keks);
      return upgrade;
    }
    for (const row of rows) {
      const jwk = privateJwkOf(row, keks);
      const current = keks.current;
      if (!current || row.private_jwk_sealed?.kek === current.id) continue;
      const { sealed } = storedForm(row.kid, jwk, keks);
      await client.query('UPDATE signing_keys SET private_jwk = NULL, private_jwk_sealed = $2 WHERE kid = $1', [row.kid, JSON.stringify(sealed)]);
      (row.private_jwk_sealed ? upgrade.resealed : upgrade.sealed).push(row.kid);
    }
    return upgrade;
  });
}

/**
 * All keys verify (and are published); the one that signs is the newest key older than
 * `activationDelayMs`. A rotated key is thus published by every replica before any replica signs
 * with it, so no gateway can meet a token whose key its JWKS source does not know yet. On a first
 * start, when no key is that old, the oldest key signs.
 */
export async function loadKeySet(pool: Pool, keks: KeyRing, activationDelayMs = 0, now = Date.now()): Promise<KeySet> {
  const { rows } = await pool.query<PrivateRow & { public_jwk: Jwks['keys'][number]; created_at: Date }>(
    'SELECT kid, private_jwk, private_jwk_sealed, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC, kid DESC',
  );
  const signing = rows.find((r) => now - r.created_at.getTime() >= activationDelayMs) ?? rows[rows.length - 1];
  if (!signing) throw new Error('no signing key: ensureSigningKey must run first');
  const privateKey = (await importJWK(privateJwkOf(signing, keks), TOKEN.algorithm)) as CryptoKey;
  return { signing: { kid: signing.kid, privateKey }, jwks: { keys: rows.map((r) => r.public_jwk) } };
}

/**
 * Rotate: add a new signing key (every replica signs with it once it is `activationDelayMs` old and
 * publishes it at its next refresh); tokens signed with older keys keep verifying until they expire.
 * Keys replaced longer ago than a token can live (plus the activation delay and a margin) can no
 * longer verify anything alive, and are removed. Refuses, before adding anything, a KEK that cannot
 * open the stored keys.
 */
export async function rotateSigningKey(pool: Pool, keks: KeyRing, activationDelayMs: number): Promise<{ kid: string; removed: string[] }> {
  await ensureSigningKey(pool, keks);
  const kid = await createSigningKey(pool, keks);
  const { rows } = await pool.query<{ kid: string }>(
    `DELETE FROM signing_keys k
      WHERE EXISTS (SELECT 1 FROM signing_keys newer WHERE newer.created_at > k.created_at AND newer.created_at < now() - make_interval(secs => $1))
      RETURNING kid`,
    // Until a newer key activates, the older one still signs: keep it a full token lifetime beyond that.
    [MAX_ACCESS_TOKEN_TTL_SECONDS + activationDelayMs / 1000 + 300],
  );
  return { kid, removed: rows.map((r) => r.kid) };
}
