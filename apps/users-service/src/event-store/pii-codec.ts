import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Fields of any event payload that are personal data, encrypted with the owner's key. */
export const PII_FIELDS = ['username', 'email', 'fio', 'birthday', 'tags', 'attributes', 'changes'] as const;

const VERSION = 'v1';

export const newDataKey = () => randomBytes(32);

/**
 * Move the personal fields of `data` into one AES-256-GCM sealed string under `pii`, bound to the
 * stream (as associated data) so a payload cannot be replayed under another user.
 */
export function sealPayload(data: Record<string, unknown>, key: Buffer | undefined, streamId: string): Record<string, unknown> {
  const clear: Record<string, unknown> = {};
  const personal: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) ((PII_FIELDS as readonly string[]).includes(k) ? personal : clear)[k] = v;
  if (!Object.keys(personal).length) return clear;
  if (!key) throw new Error(`no data key for stream ${streamId}: cannot store personal data`);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(streamId));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(personal), 'utf8'), cipher.final()]);
  return { ...clear, pii: [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.') };
}

/** Inverse of sealPayload. Without the key (the user was erased) the personal part is gone: `erased`. */
export function openPayload(payload: Record<string, unknown>, key: Buffer | undefined, streamId: string): { data: Record<string, unknown>; erased: boolean } {
  const { pii, ...clear } = payload;
  if (typeof pii !== 'string') return { data: clear, erased: false };
  if (!key) return { data: clear, erased: true };
  const [version, iv, tag, sealed] = pii.split('.');
  if (version !== VERSION || !iv || !tag || !sealed) throw new Error(`unknown personal-data envelope in stream ${streamId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(streamId));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const personal = JSON.parse(Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8')) as Record<string, unknown>;
  return { data: { ...clear, ...personal }, erased: false };
}

/**
 * Seal one secret value (a TOTP secret) with the owner's data key, bound to the stream and to what
 * it is (`purpose`), so erasing the user's key leaves it unreadable like their personal data.
 */
export function sealSecret(value: string, key: Buffer, streamId: string, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${streamId}|${purpose}`));
  const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

/** Inverse of sealSecret; undefined without the key (the user was erased). */
export function openSecret(sealed: string, key: Buffer | undefined, streamId: string, purpose: string): string | undefined {
  if (!key) return undefined;
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || !body) throw new Error(`unknown sealed secret in stream ${streamId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`${streamId}|${purpose}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
