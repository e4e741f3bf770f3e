import type { Role, UserEvent } from '@um/contracts';
import type { Profile, UserState } from './user.js';

/** Commands on one user's stream. */
export type UserCommand =
  | {
      type: 'RegisterUser';
      data: {
        user_id: number;
        username: string;
        email: string;
        fio?: string | undefined;
        birthday?: string | undefined;
        tags: string[];
        role: Role;
        attributes?: Record<string, unknown>;
      };
    }
  /** `otherAdmins`: how many admins there are besides this user, read under the admins lock. */
  | { type: 'DeleteUser'; data: { user_id: number }; otherAdmins: number }
  | { type: 'ChangeRole'; data: { user_id: number; role: Role }; otherAdmins: number }
  /** At most one confirmation email per `resendIntervalSeconds`, as of `now`. */
  | { type: 'RequestEmailConfirmation'; data: { user_id: number }; now: Date; resendIntervalSeconds: number }
  | { type: 'ConfirmEmail'; data: { user_id: number } }
  /** `emailByLink`: a new address the user asked for, which takes effect only once confirmed from it (`EmailChangeRequested`). */
  | { type: 'UpdateProfile'; data: { user_id: number; changes: Partial<Profile>; emailByLink?: string | undefined } }
  | { type: 'ChangePassword'; data: { user_id: number } }
  | { type: 'RequestPasswordReset'; data: { user_id: number } }
  /** `dropFactor`: the second factor was enrolled too recently to outlive a reset by email link (MFA_TRUST_AFTER). */
  | { type: 'ResetPassword'; data: { user_id: number }; dropFactor: boolean }
  | { type: 'EnableMfa'; data: { user_id: number } }
  | { type: 'DisableMfa'; data: { user_id: number; by: 'user' | 'admin' } }
  /** The link sent to the new address was followed: it is the account's address now, and verified. */
  | { type: 'ConfirmEmailChange'; data: { user_id: number; email: string } }
  /**
   * The link sent to the old address was followed: the change is cancelled and, when it had taken
   * effect (the account still has `revertFrom`), the old address comes back (verified if it was).
   */
  | { type: 'CancelEmailChange'; data: { user_id: number; oldEmail: string; oldVerified: boolean; revertFrom?: string | undefined } };

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why a command cannot be applied; the application layer maps these to AppErrors. `id` names a
 * rule's own error (`users.<id>`); without it the error is named for the command and the reason.
 */
export type Rejection = {
  reason: 'already_exists' | 'not_found' | 'resource_exhausted';
  message: string;
  id?: 'last_admin' | 'confirmation_rate_limited';
  retryAfterSeconds?: number;
};

const notFound: Rejection = { reason: 'not_found', message: 'User not found' };

/** The system keeps at least one admin: the last one cannot lose the role. */
const lastAdmin = (state: Extract<UserState, { status: 'active' }>, otherAdmins: number, action: 'demoted' | 'deleted'): Rejection | undefined =>
  state.role === 'admin' && otherAdmins === 0
    ? { reason: 'already_exists', id: 'last_admin', message: `The last admin cannot be ${action}; make another user an admin first` }
    : undefined;

/** Seconds until another confirmation email may be sent; 0 when one may be sent now. */
const confirmationWait = (requestedAt: Date, now: Date, intervalSeconds: number) => Math.max(0, Math.ceil((requestedAt.getTime() + intervalSeconds * 1000 - now.getTime()) / 1000));

/**
 * Pure decision: the events a command produces in a state, or why it is refused. Invariants across
 * users come in two ways: unique names are the projection's unique indexes; the count of other
 * admins is read by the application under the admins lock and carried in the command.
 */
export function decide(command: UserCommand, state: UserState): UserEvent[] | Rejection {
  switch (command.type) {
    case 'RegisterUser':
      if (state.status !== 'none') return { reason: 'already_exists', message: 'A user with this id already exists' };
      return [{ type: 'UserRegistered', data: command.data }];
    case 'DeleteUser':
      if (state.status !== 'active') return notFound;
      return lastAdmin(state, command.otherAdmins, 'deleted') ?? [{ type: 'UserDeleted', data: { user_id: state.id } }];
    case 'ChangeRole':
      if (state.status !== 'active') return notFound;
      if (state.role === command.data.role) return [];
      return lastAdmin(state, command.otherAdmins, 'demoted') ?? [{ type: 'UserRoleChanged', data: { user_id: state.id, role: command.data.role } }];
    case 'RequestEmailConfirmation': {
      if (state.status !== 'active') return notFound;
      if (state.emailVerified) return { reason: 'already_exists', message: 'The email address is already confirmed' };
      const wait = confirmationWait(state.confirmationRequestedAt, command.now, command.resendIntervalSeconds);
      if (wait > 0)
        return {
          reason: 'resource_exhausted',
          id: 'confirmation_rate_limited',
          message: `A confirmation email was sent recently; try again in ${wait} s`,
          retryAfterSeconds: wait,
        };
      return [{ type: 'EmailConfirmationRequested', data: { user_id: state.id } }];
    }
    case 'ConfirmEmail':
      if (state.status !== 'active') return notFound;
      // Confirming twice is harmless: nothing new happens.
      if (state.emailVerified) return [];
      return [{ type: 'EmailConfirmed', data: { user_id: state.id } }];
    case 'UpdateProfile': {
      if (state.status !== 'active') return notFound;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const [field, to] of Object.entries(command.data.changes)) {
        const from = state.profile[field] ?? null;
        if (to !== undefined && !sameValue(from, to)) changes[field] = { from, to };
      }
      const fields = Object.keys(changes);
      const { emailByLink } = command.data;
      const emailRequest =
        emailByLink !== undefined && !sameValue(state.profile.email, emailByLink) ? [{ type: 'EmailChangeRequested' as const, data: { user_id: state.id } }] : [];
      // Nothing really changed: no event, the reply shows the user as is.
      return [...(fields.length ? [{ type: 'UserProfileUpdated' as const, data: { user_id: state.id, fields, changes } }] : []), ...emailRequest];
    }
    case 'ChangePassword':
      if (state.status !== 'active') return notFound;
      return [{ type: 'PasswordChanged', data: { user_id: state.id } }];
    case 'RequestPasswordReset':
      if (state.status !== 'active') return notFound;
      return [{ type: 'PasswordResetRequested', data: { user_id: state.id } }];
    case 'ResetPassword':
      if (state.status !== 'active') return notFound;
      return [
        { type: 'PasswordReset', data: { user_id: state.id } },
        // The link came through the address: it reached its owner, so it is confirmed too.
        ...(state.emailVerified ? [] : [{ type: 'EmailConfirmed' as const, data: { user_id: state.id } }]),
        ...(state.mfa && command.dropFactor ? [{ type: 'MfaDisabled' as const, data: { user_id: state.id, method: 'totp' as const, by: 'password_reset' as const } }] : []),
      ];
    case 'EnableMfa':
      if (state.status !== 'active') return notFound;
      if (state.mfa) return { reason: 'already_exists', message: 'A second factor is already active' };
      return [{ type: 'MfaEnabled', data: { user_id: state.id, method: 'totp' } }];
    case 'DisableMfa':
      if (state.status !== 'active') return notFound;
      if (!state.mfa) return { reason: 'not_found', message: 'No second factor is active' };
      return [{ type: 'MfaDisabled', data: { user_id: state.id, method: 'totp', by: command.data.by } }];
    case 'ConfirmEmailChange': {
      if (state.status !== 'active') return notFound;
      if (sameValue(state.profile.email, command.data.email)) return state.emailVerified ? [] : [{ type: 'EmailConfirmed', data: { user_id: state.id } }];
      const changes = { email: { from: state.profile.email, to: command.data.email } };
      return [
        { type: 'UserProfileUpdated', data: { user_id: state.id, fields: ['email'], changes } },
        { type: 'EmailConfirmed', data: { user_id: state.id } },
      ];
    }
    case 'CancelEmailChange': {
      if (state.status !== 'active') return notFound;
      const { oldEmail, oldVerified, revertFrom } = command.data;
      const revert = revertFrom !== undefined && sameValue(state.profile.email, revertFrom);
      if (!revert) return [{ type: 'EmailChangeCancelled', data: { user_id: state.id, reverted: false } }];
      return [
        { type: 'UserProfileUpdated', data: { user_id: state.id, fields: ['email'], changes: { email: { from: state.profile.email, to: oldEmail } } } },
        ...(oldVerified ? [{ type: 'EmailConfirmed' as const, data: { user_id: state.id } }] : []),
        { type: 'EmailChangeCancelled', data: { user_id: state.id, reverted: true } },
      ];
    }
  }
}

export const isRejection = (r: UserEvent[] | Rejection): r is Rejection => !Array.isArray(r);
