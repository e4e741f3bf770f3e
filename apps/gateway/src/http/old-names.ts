import type { PublicUser, User } from '@um/contracts';

type Shown = User | PublicUser;

/**
 * The user object with the field names of the APIs this system replaces added beside its own, on
 * those APIs' routes only: plain renames and copies, never a changed meaning. A value the user does
 * not have is `null`, as those APIs answered it.
 */
export const oldNames = {
  /** Spec 001 (`UserRead`): `name` is `config.fio`; `phone` and `image_url` are declared attributes. */
  '001': (u: Shown) => ({ ...u, name: u.config.fio ?? null, phone: u.config.phone ?? null, image_url: u.config.image_url ?? null }),
  /** Spec 003: `registration_date` is `created_at`. */
  '003': (u: Shown) => ({ ...u, registration_date: u.created_at }),
  /** Spec 004: `first_name` and `last_name` are declared attributes. */
  '004': (u: Shown) => ({ ...u, first_name: u.config.first_name ?? null, last_name: u.config.last_name ?? null }),
} as const;
