import { createDecipheriv } from 'node:crypto';
import type { JWK } from 'jose';
import type pg from 'pg';

export interface KeyRow {
  kid: string;
  private_jwk: JWK | null;
  private_jwk_sealed: { v: number; alg: string; kek: string; iv: string; ct: string; tag: string } | null;
  created_at: Date;
}

/** auth-service's stored signing keys, oldest first. */
export const keyRows = async (db: pg.Client, schema: string) =>
  (await db.query<KeyRow>(`SELECT kid, private_jwk, private_jwk_sealed, created_at FROM "${schema}".signing_keys ORDER BY created_at`)).rows;

/** Open a sealed private key as an attacker holding the database and the KEK would: AES-256-GCM, the kid as associated data. */
export function openWithKek(row: KeyRow, kek: Buffer): JWK {
  const s = row.private_jwk_sealed!;
  const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(s.iv, 'base64url'));
  d.setAAD(Buffer.from(row.kid));
  d.setAuthTag(Buffer.from(s.tag, 'base64url'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(s.ct, 'base64url')), d.final()]).toString('utf8')) as JWK;
}
