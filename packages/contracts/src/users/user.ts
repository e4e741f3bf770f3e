import { z } from 'zod';
import { UserIdValue } from './user-id.js';

export const Role = z.enum(['user', 'admin']);
export type Role = z.infer<typeof Role>;

/**
 * Profile data stored in the `config` JSONB column: the built-ins (`fio` and `birthday` absent for
 * users created through an old API that has neither) and the attributes the profile schema declares.
 */
export const UserConfig = z.looseObject({
  fio: z.string().optional(),
  birthday: z.string().optional(),
  tags: z.array(z.string()),
});
export type UserConfig = z.infer<typeof UserConfig>;

/** The user object as every reply shows it. Never carries a password or its hash. */
export const User = z
  .object({
    id: UserIdValue,
    username: z.string(),
    email: z.string(),
    config: UserConfig,
    role: Role,
    email_verified: z.boolean(),
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

/**
 * A user as another non-admin sees them when the directory shows public fields only
 * (`USER_DIRECTORY_FIELDS=public`): without the email and the birthday.
 */
export const PublicUser = User.omit({ email: true })
  .extend({ config: UserConfig.omit({ birthday: true }) })
  .meta({ id: 'PublicUser' });
export type PublicUser = z.infer<typeof PublicUser>;
