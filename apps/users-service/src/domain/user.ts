import type { Role, UserEvent } from '@um/contracts';

/** The profile fields a user can change, as stored in events: the built-ins and the declared attributes by name. */
export interface Profile {
  username: string;
  email: string;
  fio?: string | undefined;
  birthday?: string | undefined;
  tags: string[];
  [attribute: string]: unknown;
}

/** What a decision about one user needs to know, folded from that user's events. */
export type UserState =
  | { status: 'none' }
  | {
      status: 'active';
      id: number;
      role: Role;
      emailVerified: boolean;
      profile: Profile;
      mfa: boolean;
      /** When a confirmation email was last asked for: the registration sends the first. */
      confirmationRequestedAt: Date;
    }
  | { status: 'deleted'; id: number };

/** An event as stored: with the time it was recorded; undefined where its personal data was erased. */
export interface RecordedEvent {
  event: UserEvent | undefined;
  recordedAt: Date;
}

export const initialState: UserState = { status: 'none' };

/** The state after one event, recorded at `recordedAt`. */
export function evolve(state: UserState, event: UserEvent, recordedAt: Date): UserState {
  switch (event.type) {
    case 'UserRegistered': {
      const { user_id, role, username, email, fio, birthday, tags, attributes } = event.data;
      return {
        status: 'active',
        id: user_id,
        role,
        emailVerified: false,
        profile: { ...attributes, username, email, fio, birthday, tags },
        mfa: false,
        confirmationRequestedAt: recordedAt,
      };
    }
    case 'UserRoleChanged':
      return state.status === 'active' ? { ...state, role: event.data.role } : state;
    case 'EmailConfirmed':
      return state.status === 'active' ? { ...state, emailVerified: true } : state;
    case 'UserProfileUpdated': {
      if (state.status !== 'active') return state;
      const profile = { ...state.profile };
      for (const [field, change] of Object.entries(event.data.changes)) (profile as Record<string, unknown>)[field] = change.to;
      return { ...state, profile, emailVerified: 'email' in event.data.changes ? false : state.emailVerified };
    }
    case 'MfaEnabled':
      return state.status === 'active' ? { ...state, mfa: true } : state;
    case 'MfaDisabled':
      return state.status === 'active' ? { ...state, mfa: false } : state;
    case 'EmailConfirmationRequested':
      return state.status === 'active' ? { ...state, confirmationRequestedAt: recordedAt } : state;
    case 'PasswordChanged':
    case 'PasswordResetRequested':
    case 'PasswordReset':
    case 'EmailChangeRequested':
    case 'EmailChangeCancelled':
      return state;
    case 'UserDeleted':
      return { status: 'deleted', id: event.data.user_id };
  }
}

/** Fold a stream; erased events (undefined) only ever precede the user's deletion and carry nothing to fold. */
export const fold = (events: RecordedEvent[]): UserState => events.reduce<UserState>((state, e) => (e.event ? evolve(state, e.event, e.recordedAt) : state), initialState);
