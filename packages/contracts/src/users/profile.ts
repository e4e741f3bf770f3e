import { z } from 'zod';
import {
  Birthday,
  CurrentPassword,
  charLength,
  DateString,
  Email,
  Fio,
  hasNoBidiControls,
  hasNoControlChars,
  isRealDate,
  isWellFormed,
  normaliseTags,
  text,
  WELL_FORMED_MESSAGE,
} from './fields.js';
import { defaultProfileSchema, type AttributeDeclaration, type ProfileSchema, type Visibility } from './profile-schema.js';
import { CreateUser, RegisterUser, SearchUsers, UpdateUserFields } from './requests.js';
import { User, UserConfig } from './user.js';

/** Defaults for limits a declaration leaves out. */
const DEFAULT_MAX_LENGTH = { text: 200, url: 2048, phone: 32, email: 254, text_list: 50 } as const;
const DEFAULT_MAX_ITEMS = 20;
const PHONE = /^\+?[0-9 ().-]+$/;

const plainText = (max: number, min: number) =>
  text()
    .trim()
    .refine(hasNoControlChars, { error: 'must not contain control characters', abort: true })
    .refine(hasNoBidiControls, { error: 'must not contain bidirectional formatting characters', abort: true })
    .refine((s) => charLength(s) >= Math.max(min, 1), min > 1 ? `must be at least ${min} characters` : 'must not be empty')
    .refine((s) => charLength(s) <= max, `must be at most ${max} characters`);

/** The zod schema of one attribute's value, from its declaration. */
export function attributeValue(decl: AttributeDeclaration): z.ZodType {
  const min = decl.min_length ?? 0;
  switch (decl.type) {
    case 'text':
      return plainText(decl.max_length ?? DEFAULT_MAX_LENGTH.text, min).describe(decl.description ?? 'Text');
    case 'url': {
      const max = decl.max_length ?? DEFAULT_MAX_LENGTH.url;
      return text()
        .trim()
        .max(max, `must be at most ${max} characters`)
        .min(min, `must be at least ${min} characters`)
        .pipe(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }))
        .describe(decl.description ?? 'An http(s) URL');
    }
    case 'phone': {
      const max = decl.max_length ?? DEFAULT_MAX_LENGTH.phone;
      return text()
        .trim()
        .max(max, `must be at most ${max} characters`)
        .refine((s) => PHONE.test(s), { error: 'must be a phone number: digits, spaces, "(", ")", "-", ".", optionally a leading "+"', abort: true })
        .refine((s) => s.replace(/\D/g, '').length >= Math.max(min, 5), `must have at least ${Math.max(min, 5)} digits`)
        .refine((s) => s.replace(/\D/g, '').length <= 15, 'must have at most 15 digits (E.164)')
        .describe(decl.description ?? 'A phone number');
    }
    case 'email': {
      const max = decl.max_length ?? DEFAULT_MAX_LENGTH.email;
      return Email.refine((s) => charLength(s) <= max, `must be at most ${max} characters`).describe(decl.description ?? 'An email address');
    }
    case 'date': {
      let s: z.ZodType<string> = DateString;
      if (decl.min) s = s.refine((v) => !isRealDate(v) || v >= decl.min!, `must not be before ${decl.min}`);
      if (decl.max) s = s.refine((v) => !isRealDate(v) || v <= decl.max!, `must not be after ${decl.max}`);
      return s.describe(decl.description ?? 'A date, YYYY-MM-DD');
    }
    case 'enum':
      return z
        .enum(decl.values as [string, ...string[]], { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${decl.values!.join(', ')}`) })
        .describe(decl.description ?? 'One of the listed values');
    case 'text_list': {
      const maxItems = decl.max_items ?? DEFAULT_MAX_ITEMS;
      const maxLength = decl.max_length ?? DEFAULT_MAX_LENGTH.text_list;
      return z
        .union([z.string(), z.array(z.string({ error: 'every item must be a string' }))], { error: 'must be an array of strings or a comma-separated string' })
        .refine((v) => (Array.isArray(v) ? v : [v]).every(isWellFormed), { error: WELL_FORMED_MESSAGE, abort: true })
        .transform(normaliseTags)
        .refine((items) => items.length <= maxItems, { error: `must have at most ${maxItems} items`, abort: true })
        .refine((items) => items.every((t) => charLength(t) <= maxLength && charLength(t) >= min), `every item must be ${min ? `${min} to ` : 'at most '}${maxLength} characters`)
        .refine((items) => items.every((t) => hasNoControlChars(t) && hasNoBidiControls(t)), 'items must not contain control or bidirectional formatting characters')
        .describe(decl.description ?? 'A list of texts (an array, or one comma-separated string)');
    }
  }
}

/** A search filter on one searchable attribute: a substring for text-like types, the exact value for dates and enums, all of the items for lists. */
function attributeFilter(decl: AttributeDeclaration): z.ZodType {
  switch (decl.type) {
    case 'date':
    case 'enum':
      return attributeValue(decl);
    case 'text_list':
      return attributeValue({ ...decl, min_length: 0 });
    default:
      return text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').refine(hasNoControlChars, 'must not contain control characters');
  }
}

/** How users-service matches a search filter on an attribute: substring, exact value, or all of the items. */
export type FilterKind = 'substring' | 'exact' | 'contains_all';
export const filterKind = (decl: AttributeDeclaration): FilterKind =>
  decl.type === 'date' || decl.type === 'enum' ? 'exact' : decl.type === 'text_list' ? 'contains_all' : 'substring';

/**
 * An object of exactly these attributes, every problem named by its attribute: each value checked by
 * its schema, a missing required one `is required`, any other key `what` (not declared, not searchable).
 */
const declaredOnly = (shape: Record<string, z.ZodType>, what = 'is not a declared profile attribute') =>
  z.record(z.string(), z.unknown(), { error: 'must be an object' }).transform((rec, ctx) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rec)) {
      const schema = shape[key];
      if (!schema) {
        ctx.addIssue({ code: 'custom', path: [key], message: what });
        continue;
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
      else if (parsed.data !== undefined) out[key] = parsed.data;
    }
    for (const [key, schema] of Object.entries(shape))
      if (!(key in rec) && !schema.safeParse(undefined).success) ctx.addIssue({ code: 'custom', path: [key], message: 'is required' });
    return out;
  });

/** Everything a service validates users with, built from one profile schema. */
export interface Profile {
  readonly schema: ProfileSchema;
  /** Declared attribute names, in declaration order. */
  readonly names: readonly string[];
  declaration(name: string): AttributeDeclaration | undefined;
  /** Names of the attributes `viewer` may see of a user: `self` when it is the user themself. */
  visibleTo(viewer: { admin: boolean; self: boolean }): string[];
  searchable(): string[];
  /** Registration's attributes: each declared one, required or optional as declared; nothing undeclared. */
  readonly attributes: z.ZodType<Record<string, unknown>>;
  /** An update's attributes: any declared ones; `null` clears an attribute that is not required. */
  readonly attributeChanges: z.ZodType<Record<string, unknown>>;
  /** Search filters on searchable attributes. */
  readonly attributeFilters: z.ZodType<Record<string, unknown>>;
  /** `POST /register` body: the built-ins as spec 000 has them plus the declared attributes. */
  readonly RegisterUser: z.ZodType<RegisterUser & Record<string, unknown>>;
  /** `POST /users` body (admins): as registration, `role` too; username (derived from the email), fio and birthday may be left out. */
  readonly CreateUser: z.ZodType<
    Omit<z.infer<typeof CreateUser>, 'username' | 'fio' | 'birthday'> & { username?: string; fio?: string; birthday?: string } & Record<string, unknown>
  >;
  /** `PATCH /users/{id}` body: any built-in or declared field. */
  readonly UpdateUserBody: z.ZodType<Record<string, unknown>>;
  /** `GET /users/search` query: the built-in filters plus one per searchable attribute. */
  readonly SearchUsers: z.ZodType<SearchUsers & Record<string, unknown>>;
  /** The user object with the declared attributes in `config`, for the API document. */
  readonly User: z.ZodType;
  /** Move the declared attributes of a body into `attributes`, leaving the rest. */
  split<T extends Record<string, unknown>>(body: T): { rest: Record<string, unknown>; attributes: Record<string, unknown> };
}

/** Build the schemas every boundary validates users with from a profile schema. */
export function buildProfile(schema: ProfileSchema = defaultProfileSchema): Profile {
  const entries = Object.entries(schema.attributes);
  const names = entries.map(([n]) => n);
  const values = Object.fromEntries(entries.map(([n, d]) => [n, attributeValue(d)]));
  const asRegistered = Object.fromEntries(entries.map(([n, d]) => [n, d.required ? values[n]! : values[n]!.optional()]));
  const asChanged = Object.fromEntries(entries.map(([n, d]) => [n, (d.required ? values[n]! : values[n]!.nullable()).optional()]));
  const searchableNames = entries.filter(([, d]) => d.searchable).map(([n]) => n);
  const asFilters = Object.fromEntries(entries.filter(([, d]) => d.searchable).map(([n, d]) => [n, attributeFilter(d).optional()]));
  const shown = (v: Visibility, viewer: { admin: boolean; self: boolean }) => v === 'everyone' || viewer.admin || (v === 'self' && viewer.self);
  const builtInChanges = ['username', 'email', 'fio', 'birthday', 'tags'];

  return {
    schema,
    names,
    declaration: (name) => schema.attributes[name],
    visibleTo: (viewer) => entries.filter(([, d]) => shown(d.visibility, viewer)).map(([n]) => n),
    searchable: () => searchableNames,
    attributes: declaredOnly(asRegistered),
    attributeChanges: declaredOnly(asChanged),
    attributeFilters: declaredOnly(asFilters, 'is not a searchable profile attribute'),
    RegisterUser: RegisterUser.extend(asRegistered) as unknown as Profile['RegisterUser'],
    CreateUser: CreateUser.extend({
      username: CreateUser.shape.username.optional(),
      fio: Fio.optional(),
      birthday: Birthday.optional(),
      ...asRegistered,
    }),
    // `current_password` proves presence for a change of one's own email (see ReauthenticationBody).
    UpdateUserBody: UpdateUserFields.extend(asChanged)
      .partial()
      .extend({ current_password: CurrentPassword.optional() })
      .strict()
      .refine((b) => Object.keys(b).some((k) => k !== 'current_password'), `must change at least one of ${[...builtInChanges, ...names].join(', ')}`),
    SearchUsers: SearchUsers.extend(asFilters) as unknown as Profile['SearchUsers'],
    User: User.extend({ config: UserConfig.extend(Object.fromEntries(entries.map(([n, d]) => [n, (d.type === 'text_list' ? z.array(z.string()) : z.string()).optional()]))) }),
    split: (body) => {
      const rest: Record<string, unknown> = {};
      const attributes: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(body)) if (v !== undefined) (names.includes(k) ? attributes : rest)[k] = v;
      return { rest, attributes };
    },
  };
}
