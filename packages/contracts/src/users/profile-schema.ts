import { z } from 'zod';

/**
 * The profile schema a deployment declares (`PROFILE_SCHEMA`, a JSON file): `config` attributes
 * beyond the built-in `fio`, `birthday` and `tags`, as Keycloak's user profile and Kratos' identity
 * traits do it. Every service that validates users builds its schemas from the same declaration.
 */

export const ATTRIBUTE_TYPES = ['text', 'date', 'url', 'phone', 'email', 'enum', 'text_list'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** Who may see an attribute of a user: anyone who may read the user, the user and admins, or admins only. */
export const VISIBILITIES = ['everyone', 'self', 'admin'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Names an attribute may not take: the user object's own fields, the built-ins, and what requests carry beside them. */
export const RESERVED_ATTRIBUTE_NAMES = [
  'id',
  'username',
  'email',
  'password',
  'role',
  'config',
  'email_verified',
  'created_at',
  'updated_at',
  'fio',
  'birthday',
  'tags',
  'attributes',
  'limit',
  'offset',
  'client_ip',
  'grant_type',
  'name',
  'registration_date',
] as const;

const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Hard ceilings, so a declaration cannot make one user's profile unbounded. */
export const ATTRIBUTE_LIMITS = { maxLength: 10_000, maxItems: 200, maxValues: 200, maxAttributes: 100 } as const;

const Length = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(ATTRIBUTE_LIMITS.maxLength, `must be at most ${ATTRIBUTE_LIMITS.maxLength}`);

/** One declared attribute. Limits that do not apply to its type are refused, never ignored. */
export const AttributeDeclaration = z
  .object({
    type: z.enum(ATTRIBUTE_TYPES, { error: `must be one of ${ATTRIBUTE_TYPES.join(', ')}` }),
    description: z.string({ error: 'must be a string' }).max(500, 'must be at most 500 characters').optional(),
    required: z.boolean({ error: 'must be true or false' }).default(false),
    searchable: z.boolean({ error: 'must be true or false' }).default(false),
    visibility: z.enum(VISIBILITIES, { error: `must be one of ${VISIBILITIES.join(', ')}` }).default('everyone'),
    /** text, url, phone, email; for text_list each item. */
    min_length: Length.optional(),
    max_length: Length.optional(),
    /** enum: the allowed values. */
    values: z
      .array(z.string({ error: 'every value must be a string' }).min(1, 'values must not be empty strings').max(200, 'values must be at most 200 characters'), {
        error: 'must be an array of strings',
      })
      .min(1, 'must list at least one value')
      .max(ATTRIBUTE_LIMITS.maxValues, `must list at most ${ATTRIBUTE_LIMITS.maxValues} values`)
      .optional(),
    /** text_list: most items. */
    max_items: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(ATTRIBUTE_LIMITS.maxItems, `must be at most ${ATTRIBUTE_LIMITS.maxItems}`)
      .optional(),
    /** date: earliest and latest allowed dates (YYYY-MM-DD). */
    min: z.string().regex(DATE, 'must be a date written as YYYY-MM-DD').optional(),
    max: z.string().regex(DATE, 'must be a date written as YYYY-MM-DD').optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const lengthTypes: AttributeType[] = ['text', 'url', 'phone', 'email', 'text_list'];
    const refuse = (key: string, types: string) => ctx.addIssue({ code: 'custom', path: [key], message: `applies only to ${types}, not to type ${a.type}` });
    if (!lengthTypes.includes(a.type)) for (const k of ['min_length', 'max_length'] as const) if (a[k] !== undefined) refuse(k, lengthTypes.join(', '));
    if (a.type !== 'enum' && a.values !== undefined) refuse('values', 'enum');
    if (a.type === 'enum' && a.values === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'is required for type enum' });
    if (a.type === 'enum' && a.values && new Set(a.values).size !== a.values.length) ctx.addIssue({ code: 'custom', path: ['values'], message: 'must not repeat a value' });
    if (a.type !== 'text_list' && a.max_items !== undefined) refuse('max_items', 'text_list');
    if (a.type !== 'date') for (const k of ['min', 'max'] as const) if (a[k] !== undefined) refuse(k, 'date');
    if (a.min_length !== undefined && a.max_length !== undefined && a.min_length > a.max_length)
      ctx.addIssue({ code: 'custom', path: ['min_length'], message: 'must not be above max_length' });
    if (a.min !== undefined && a.max !== undefined && a.min > a.max) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must not be after max' });
    if (a.required && a.visibility === 'admin')
      ctx.addIssue({ code: 'custom', path: ['required'], message: 'an attribute only admins see cannot be required (its owner could not register)' });
  });
export type AttributeDeclaration = z.infer<typeof AttributeDeclaration>;

/** The whole file: `{ "attributes": { "<name>": { "type": … }, … } }`. */
export const ProfileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    attributes: z
      .record(z.string(), AttributeDeclaration, { error: 'must be an object of attribute declarations' })
      .superRefine((attrs, ctx) => {
        const names = Object.keys(attrs);
        if (names.length > ATTRIBUTE_LIMITS.maxAttributes) ctx.addIssue({ code: 'custom', message: `must declare at most ${ATTRIBUTE_LIMITS.maxAttributes} attributes` });
        for (const name of names) {
          if ((RESERVED_ATTRIBUTE_NAMES as readonly string[]).includes(name))
            ctx.addIssue({ code: 'custom', path: [name], message: 'is a reserved name (a built-in field or one the API already uses)' });
          else if (!ATTRIBUTE_NAME.test(name))
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: 'is not a valid attribute name: lower-case letters, digits and "_", starting with a letter, at most 40 characters',
            });
        }
      })
      .default({}),
  })
  .strict();
export type ProfileSchema = z.infer<typeof ProfileSchema>;

/** The schema with no declared attributes: only `fio`, `birthday` and `tags`, as spec 000 has them. */
export const defaultProfileSchema: ProfileSchema = { attributes: {} };

/** A profile schema that cannot be used; the message names the attribute and the problem. */
export class ProfileSchemaError extends Error {
  override name = 'ProfileSchemaError';
}

/** Validate a parsed profile schema file; throws ProfileSchemaError listing every problem, each naming its attribute. */
export function parseProfileSchema(input: unknown, source = 'profile schema'): ProfileSchema {
  const parsed = ProfileSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [top, name, ...rest] = issue.path.map(String);
    if (top === 'attributes' && name !== undefined) return `attribute "${name}"${rest.length ? ` ${rest.join('.')}` : ''}: ${issue.message}`;
    return `${issue.path.length ? issue.path.join('.') : '(file)'}: ${issue.message}`;
  });
  throw new ProfileSchemaError(`${source} is invalid: ${problems.join('; ')}`);
}
