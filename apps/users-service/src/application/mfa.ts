import type { TotpEnrolment } from '@um/contracts';
import { AppError, sha256, withTransaction, type PoolClient } from '@um/platform';
import QRCode from 'qrcode';
import { acceptTotp, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, totpUri } from '../domain/totp.js';
import { openSecret, sealSecret } from '../event-store/pii-codec.js';
import { requireAdmin } from './admins.js';
import type { CallerMeta, UsersDeps } from './deps.js';
import { handleCommand } from './handle-command.js';
import { getUser } from './queries.js';

const PURPOSE = 'totp';

const wrongCode = () => new AppError('unauthenticated', 'users.mfa_code_invalid', 'The code is wrong, expired or already used');

/** The user's data key and the stream it is bound to (secrets are sealed with both); no key once the user is erased. */
async function dataKey(db: PoolClient | UsersDeps['pool'], userId: number): Promise<{ key: Buffer; streamId: string } | undefined> {
  const { rows } = await db.query<{ data_key: Buffer; stream_id: string }>(
    'SELECT k.data_key, m.stream_id FROM user_ids m JOIN user_keys k ON k.user_id = m.stream_id WHERE m.id = $1',
    [userId],
  );
  return rows[0] ? { key: rows[0].data_key, streamId: rows[0].stream_id } : undefined;
}

interface TotpRow {
  secret_sealed: string;
  confirmed_at: Date | null;
  last_step: string | null;
}

async function totpRow(client: PoolClient, userId: number): Promise<TotpRow | undefined> {
  const { rows } = await client.query<TotpRow>('SELECT secret_sealed, confirmed_at, last_step FROM mfa_totp WHERE user_id = $1 FOR UPDATE', [userId]);
  return rows[0];
}

/**
 * `POST /users/me/mfa/totp`: a fresh secret, stored sealed with the user's data key and pending
 * until a code from it is confirmed. Asking again replaces a pending secret; an active one stays
 * until it is removed.
 */
export async function startTotp(deps: UsersDeps, userId: number): Promise<TotpEnrolment> {
  const user = await getUser(deps.pool, userId);
  const secret = newTotpSecret();
  await withTransaction(deps.pool, async (client) => {
    const current = await totpRow(client, userId);
    if (current?.confirmed_at) throw new AppError('already_exists', 'users.mfa_already_active', 'A second factor is already active; remove it first');
    const key = await dataKey(client, userId);
    if (!key) throw new AppError('not_found', 'users.not_found', 'User not found');
    await client.query(
      `INSERT INTO mfa_totp (user_id, secret_sealed) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = NULL, created_at = now()`,
      [userId, sealSecret(secret, key.key, key.streamId, PURPOSE)],
    );
  });
  const uri = totpUri(secret, user.username, deps.mfaIssuer);
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, otpauth_uri: uri, qr_code: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

/** Check a TOTP code against a row (locked by the caller) and spend its step. */
async function spendTotp(deps: UsersDeps, client: PoolClient, userId: number, row: TotpRow, code: string): Promise<boolean> {
  const key = await dataKey(client, userId);
  const secret = key && openSecret(row.secret_sealed, key.key, key.streamId, PURPOSE);
  if (!secret) return false;
  const step = acceptTotp(secret, code, deps.clock(), row.last_step === null ? null : Number(row.last_step));
  if (step === undefined) return false;
  await client.query('UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1', [userId, step]);
  return true;
}

/**
 * `POST /users/me/mfa/totp/confirm`: a code from the pending secret activates it (`MfaEnabled`),
 * and answers ten recovery codes, of which only hashes are kept.
 */
export async function confirmTotp(deps: UsersDeps, userId: number, code: string, meta: CallerMeta): Promise<{ recovery_codes: string[] }> {
  const codes = newRecoveryCodes();
  return handleCommand(deps, { userId }, { type: 'EnableMfa', data: { user_id: userId } }, meta, {
    prepare: async (client) => {
      const row = await totpRow(client, userId);
      if (!row) throw new AppError('not_found', 'users.mfa_not_started', 'Start the enrolment first (POST /users/me/mfa/totp)');
      if (row.confirmed_at) throw new AppError('already_exists', 'users.mfa_already_active', 'A second factor is already active; remove it first');
      if (!(await spendTotp(deps, client, userId, row, code)))
        throw new AppError('invalid_argument', 'users.mfa_confirm_code', 'The code does not match the secret', [{ field: 'code', message: 'does not match' }]);
    },
    after: async (client) => {
      await client.query('UPDATE mfa_totp SET confirmed_at = $2 WHERE user_id = $1', [userId, deps.clock()]);
      await client.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
      for (const c of codes) await client.query('INSERT INTO mfa_recovery_codes (code_hash, user_id) VALUES ($1, $2)', [sha256(normaliseRecoveryCode(c)), userId]);
      return { recovery_codes: codes };
    },
  });
}

/**
 * The second step of a login (and proof for removing the factor): a TOTP code of the current step
 * ±1 not used before, or an unused recovery code, which is spent. auth-service throttles the calls.
 */
export async function verifySecondFactor(deps: UsersDeps, userId: number, code: string): Promise<{ method: 'totp' | 'recovery_code' }> {
  return withTransaction(deps.pool, async (client) => {
    const row = await totpRow(client, userId);
    if (!row?.confirmed_at) throw wrongCode();
    if (/^\d{6}$/.test(code)) {
      if (await spendTotp(deps, client, userId, row, code)) return { method: 'totp' as const };
      throw wrongCode();
    }
    const { rowCount } = await client.query('UPDATE mfa_recovery_codes SET used_at = $3 WHERE code_hash = $1 AND user_id = $2 AND used_at IS NULL', [
      sha256(normaliseRecoveryCode(code)),
      userId,
      deps.clock(),
    ]);
    if (!rowCount) throw wrongCode();
    return { method: 'recovery_code' as const };
  });
}

/**
 * Remove the factor: by the user (auth-service checked a code or a recent login) or reset by an
 * admin (checked here, against this service's own data). `MfaDisabled` says which.
 */
export async function disableMfa(deps: UsersDeps, userId: number, by: 'user' | 'admin', meta: CallerMeta): Promise<{ status: 'disabled' }> {
  return handleCommand(deps, { userId }, { type: 'DisableMfa', data: { user_id: userId, by } }, meta, {
    prepare: async (client) => {
      if (by === 'admin') await requireAdmin(client, meta);
    },
    after: async (client) => {
      await eraseMfa(client, userId);
      return { status: 'disabled' as const };
    },
  });
}

/** Whether the user's active second factor was confirmed after `since` (too recently to outlive a reset by email link). */
export async function factorEnrolledAfter(client: PoolClient, userId: number, since: Date): Promise<boolean> {
  const row = await totpRow(client, userId);
  return !!row?.confirmed_at && row.confirmed_at > since;
}

/** Every trace of a user's second factor (on removal and on erasure). */
export async function eraseMfa(client: PoolClient, userId: number): Promise<void> {
  await client.query('DELETE FROM mfa_totp WHERE user_id = $1', [userId]);
  await client.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
}
