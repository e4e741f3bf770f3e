import type { PublicUser, SearchUsers, User } from '@um/contracts';
import { AppError } from '@um/platform';
import type { Principal } from './policy.js';

/** Who may browse other users (`USER_DIRECTORY`) and what non-admins see of them (`USER_DIRECTORY_FIELDS`). */
export interface DirectorySettings {
  scope: 'all' | 'admins';
  fields: 'full' | 'public';
}

/** What the spec describes: any signed-in caller lists, searches and reads users in full. */
export const openDirectory: DirectorySettings = { scope: 'all', fields: 'full' };

const seesAllOf = (settings: DirectorySettings, viewer: Principal, user: User) => settings.fields === 'full' || viewer.role === 'admin' || viewer.userId === user.id;

/** `user` as `viewer` may see them: in full, or without the fields the directory keeps to admins and the user. */
export function shownTo(settings: DirectorySettings, viewer: Principal, user: User): User | PublicUser {
  if (seesAllOf(settings, viewer, user)) return user;
  const { email: _email, config, ...rest } = user;
  const { birthday: _birthday, ...publicConfig } = config;
  return { ...rest, config: publicConfig };
}

/** Filters on fields a viewer cannot see would reveal them one guess at a time. */
const HIDDEN_FILTERS = ['email', 'birthday'] as const;

/** Refuses a search by a field the directory hides from this viewer. */
export function checkSearchFilters(settings: DirectorySettings, viewer: Principal, query: SearchUsers): void {
  if (settings.fields === 'full' || viewer.role === 'admin') return;
  const used = HIDDEN_FILTERS.filter((f) => query[f] !== undefined);
  if (used.length) throw new AppError('permission_denied', 'access.hidden_filter', `Only admins can search by ${used.join(' or ')}; search by username, fio or tags`);
}
