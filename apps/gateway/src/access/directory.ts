import { buildProfile, type Profile, type PublicUser, type User } from '@um/contracts';
import { AppError } from '@um/platform';
import type { Principal } from './policy.js';

/**
 * Who may browse other users (`USER_DIRECTORY`), what non-admins see of them
 * (`USER_DIRECTORY_FIELDS`), and who sees each declared profile attribute (its `visibility`).
 */
export interface DirectorySettings {
  scope: 'all' | 'admins';
  fields: 'full' | 'public';
  /** The declared attributes (`PROFILE_SCHEMA`); only the built-ins unless given. */
  profile?: Profile;
}

/** What the spec describes: any signed-in caller lists, searches and reads users in full. */
export const openDirectory: DirectorySettings = { scope: 'all', fields: 'full' };

const defaultProfile = buildProfile();

/** Who is looking: a signed-in caller, or the user themself right after registering. */
type Viewer = Pick<Principal, 'userId' | 'role'>;

const seesAllOf = (settings: DirectorySettings, viewer: Viewer, user: User) => settings.fields === 'full' || viewer.role === 'admin' || viewer.userId === user.id;

/**
 * `user` as `viewer` may see them: in full, or without the fields the directory keeps to admins and
 * the user; declared attributes only where their visibility lets the viewer see them.
 */
export function shownTo(settings: DirectorySettings, viewer: Viewer, user: User): User | PublicUser {
  const profile = settings.profile ?? defaultProfile;
  const visible = new Set(profile.visibleTo({ admin: viewer.role === 'admin', self: viewer.userId === user.id }));
  const config = Object.fromEntries(Object.entries(user.config).filter(([k]) => !profile.declaration(k) || visible.has(k))) as User['config'];
  if (seesAllOf(settings, viewer, user)) return { ...user, config };
  const { email: _email, ...rest } = user;
  const { birthday: _birthday, ...publicConfig } = config;
  return { ...rest, config: publicConfig };
}

/** Filters on fields a viewer cannot see would reveal them one guess at a time. */
const HIDDEN_FILTERS = ['email', 'birthday'] as const;

/** Refuses a search by a field the directory (or an attribute's visibility) hides from this viewer. */
export function checkSearchFilters(settings: DirectorySettings, viewer: Viewer, query: Record<string, unknown>): void {
  if (viewer.role === 'admin') return;
  const profile = settings.profile ?? defaultProfile;
  const everyone = new Set(profile.visibleTo({ admin: false, self: false }));
  const hiddenAttributes = profile.searchable().filter((name) => !everyone.has(name) && query[name] !== undefined);
  const used = [...(settings.fields === 'full' ? [] : HIDDEN_FILTERS.filter((f) => query[f] !== undefined)), ...hiddenAttributes];
  if (used.length) throw new AppError('permission_denied', 'access.hidden_filter', `Only admins can search by ${used.join(' or ')}`);
}
