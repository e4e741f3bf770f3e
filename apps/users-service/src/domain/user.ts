import type { Role, UserEvent } from '@um/contracts';

/** What a decision about one user needs to know, folded from that user's events. */
export type UserState =
  | { status: 'none' }
  | { status: 'active'; id: string; role: Role; emailVerified: boolean }
  | { status: 'deleted'; id: string };

export const initialState: UserState = { status: 'none' };

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'active', id: event.data.user_id, role: event.data.role, emailVerified: false };
    case 'EmailConfirmed':
      return state.status === 'active' ? { ...state, emailVerified: true } : state;
    case 'EmailConfirmationRequested':
      return state;
    case 'UserRoleChanged':
      return state.status === 'active' ? { ...state, role: event.data.role } : state;
    case 'UserDeleted':
      return { status: 'deleted', id: event.data.user_id };
  }
}

/** Fold a stream; erased events (undefined) only ever precede the user's deletion and carry nothing to fold. */
export const fold = (events: Array<UserEvent | undefined>): UserState =>
  events.reduce<UserState>((state, e) => (e ? evolve(state, e) : state), initialState);
