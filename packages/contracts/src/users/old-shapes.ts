import { z } from 'zod';
import { CurrentPassword, Email, Fio, Password, Tags } from './fields.js';
import type { Profile } from './profile.js';
import { UpdateUserFields } from './requests.js';

/**
 * Request bodies of the APIs this system replaces (specs 001 and 003 in shared/seeds), built from
 * the deployment's profile schema: their extra fields are declared attributes (see
 * deploy/profile/example.json). Unknown keys are refused, so a field the deployment does not
 * declare is a 422 naming it, never silently dropped.
 */
export function oldShapes(profile: Profile) {
  const declared = Object.fromEntries(profile.names.map((n) => [n, z.unknown().optional()]));
  return {
    /** Spec 001 `POST /auth/register`: `{name, phone, email, password, image_url}`; `name` is `fio`, the username is derived from the email. */
    Register001: z
      .object({ name: Fio, email: Email, password: Password, tags: Tags.default([]), ...declared })
      .strict()
      .transform((body, ctx) => {
        const { name, email, password, tags, ...rest } = body;
        const attributes = profile.attributes.safeParse(rest);
        if (!attributes.success) {
          for (const issue of attributes.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
          return z.NEVER;
        }
        return { fio: name, email, password, tags, attributes: attributes.data };
      }),
    /** Spec 003 `PUT /users`: `{password, email}`, and any profile field; at least one. */
    Update003: UpdateUserFields.extend({ password: Password, ...declared })
      .partial()
      .extend({ current_password: CurrentPassword.optional() })
      .strict()
      .refine(
        (b) => Object.entries(b).some(([k, v]) => k !== 'current_password' && v !== undefined),
        `must change at least one of password, ${['username', 'email', 'fio', 'birthday', 'tags', ...profile.names].join(', ')}`,
      ),
  };
}
export type OldShapes = ReturnType<typeof oldShapes>;
