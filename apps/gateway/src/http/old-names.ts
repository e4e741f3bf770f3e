import type { Profile, PublicUser, User } from '@um/contracts';

type Shown = User | PublicUser;
export type OldNames = ReturnType<typeof oldNamesFor>;

/**
 * The user object with the field names of the APIs this system replaces added beside its own, on
 * those APIs' routes only: plain renames and copies, never a changed meaning. Attribute copies
 * appear when the profile schema declares the attribute (`null` for a user without a value, as
 * those APIs answered it).
 */
export function oldNamesFor(profile: Profile) {
  const copies = (u: Shown, names: string[]) => Object.fromEntries(names.filter((n) => profile.declaration(n)).map((n) => [n, u.config[n] ?? null]));
  return {
    /** Spec 001 (`UserRead`): `name` is `config.fio`; `phone` and `image_url` are declared attributes. */
    '001': (u: Shown) => ({ ...u, name: u.config.fio ?? null, ...copies(u, ['phone', 'image_url']) }),
    /** Spec 003: `registration_date` is `created_at`. */
    '003': (u: Shown) => ({ ...u, registration_date: u.created_at }),
    /** Spec 004: `first_name` and `last_name` are declared attributes. */
    '004': (u: Shown) => ({ ...u, ...copies(u, ['first_name', 'last_name']) }),
  };
}
