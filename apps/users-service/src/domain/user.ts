import type { Role, UserEvent } from '@um/contracts';

/** What a decision about one user needs to know, folded from that user's events. */
export type UserState =
  | { status: 'none' }
  | { status: 'active'; id: string; role: Role }
  | { status: 'deleted'; id: string };

export const initialState: UserState = { status: 'none' };

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'active', id: event.data.user_id, role: event.data.role };
    case 'UserRoleChanged':
      return state.status === 'active' ? { ...state, role: event.data.role } : state;
    case 'UserDeleted':
      return { status: 'deleted', id: event.data.user_id };
  }
}

export const fold = (events: UserEvent[]): UserState => events.reduce(evolve, initialState);
