import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProfile } from './profile.js';
import { parseProfileSchema, ProfileSchemaError } from './profile-schema.js';

const shipped = (name: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../deploy/profile/${name}`, import.meta.url)), 'utf8')) as unknown;
const problem = (input: unknown) => {
  try {
    parseProfileSchema(input, 'test.json');
  } catch (e) {
    if (e instanceof ProfileSchemaError) return e.message;
    throw e;
  }
  throw new Error('the schema was accepted');
};

describe('parseProfileSchema', () => {
  it('accepts the shipped default and example schemas', () => {
    expect(parseProfileSchema(shipped('default.json')).attributes).toEqual({});
    const example = parseProfileSchema(shipped('example.json'));
    expect(Object.keys(example.attributes)).toEqual(['phone', 'image_url', 'first_name', 'last_name']);
    expect(example.attributes.phone).toMatchObject({ type: 'phone', required: false, searchable: true, visibility: 'self' });
    expect(example.attributes.image_url).toMatchObject({ visibility: 'everyone', searchable: false });
  });

  it.each([
    [{ attributes: { phone: { type: 'telephone' } } }, 'attribute "phone" type: must be one of text, date, url, phone, email, enum, text_list'],
    [{ attributes: { fio: { type: 'text' } } }, 'attribute "fio": is a reserved name'],
    [{ attributes: { 'First Name': { type: 'text' } } }, 'attribute "First Name": is not a valid attribute name'],
    [{ attributes: { level: { type: 'enum' } } }, 'attribute "level" values: is required for type enum'],
    [{ attributes: { level: { type: 'enum', values: ['a', 'a'] } } }, 'attribute "level" values: must not repeat a value'],
    [{ attributes: { nick: { type: 'text', values: ['a'] } } }, 'attribute "nick" values: applies only to enum, not to type text'],
    [{ attributes: { born: { type: 'date', max_length: 3 } } }, 'attribute "born" max_length: applies only to text, url, phone, email, text_list'],
    [{ attributes: { nick: { type: 'text', min_length: 5, max_length: 2 } } }, 'attribute "nick" min_length: must not be above max_length'],
    [{ attributes: { nick: { type: 'text', max_length: 1e9 } } }, 'attribute "nick" max_length: must be at most 10000'],
    [{ attributes: { nick: { type: 'text', searchable: 'yes' } } }, 'attribute "nick" searchable: must be true or false'],
    [{ attributes: { nick: { type: 'text', visibility: 'friends' } } }, 'attribute "nick" visibility: must be one of everyone, self, admin'],
    [{ attributes: { nick: { type: 'text', colour: 'red' } } }, 'attribute "nick": Unrecognized key: "colour"'],
    [{ attributes: { secret: { type: 'text', visibility: 'admin', required: true } } }, 'attribute "secret" required: an attribute only admins see cannot be required'],
    [{ attributes: [] }, 'attributes: must be an object of attribute declarations'],
    [{ attributes: {}, extra: 1 }, '(file): Unrecognized key: "extra"'],
  ])('refuses %j, naming the attribute and the problem', (input, message) => {
    const text = problem(input);
    expect(text).toContain('test.json is invalid: ');
    expect(text).toContain(message);
  });

  it('lists every problem at once', () => {
    const text = problem({ attributes: { a: { type: 'nope' }, b: { type: 'enum' } } });
    expect(text).toContain('attribute "a" type');
    expect(text).toContain('attribute "b" values');
  });
});

describe('buildProfile', () => {
  const profile = buildProfile(
    parseProfileSchema({
      attributes: {
        site: { type: 'url' },
        phone: { type: 'phone', required: true },
        born: { type: 'date', min: '2000-01-01' },
        langs: { type: 'text_list', max_items: 2, max_length: 5 },
        work_email: { type: 'email', searchable: true },
      },
    }),
  );
  const errors = (value: unknown) => {
    const r = profile.attributes.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('checks each type, its limits and required attributes, and names unknown ones', () => {
    expect(errors({ phone: '+7 (902) 412-75-23', site: 'https://x.example/a', born: '2001-02-03', langs: 'ru, en', work_email: ' a@b.example ' })).toEqual([]);
    expect(profile.attributes.parse({ phone: '12345', langs: 'ru, en,ru', work_email: ' a@b.example ' })).toEqual({
      phone: '12345',
      langs: ['ru', 'en'],
      work_email: 'a@b.example',
    });
    expect(errors({})).toEqual(['phone: is required']);
    expect(errors({ phone: '12345', site: 'javascript:alert(1)' })).toEqual(['site: must be an http or https URL']);
    expect(errors({ phone: 'abc' })[0]).toMatch(/^phone: must be a phone number/);
    expect(errors({ phone: '123' })).toEqual(['phone: must have at least 5 digits']);
    expect(errors({ phone: '12345', born: '1999-12-31' })).toEqual(['born: must not be before 2000-01-01']);
    expect(errors({ phone: '12345', born: '2001-02-30' })).toEqual(['born: must be a real calendar date']);
    expect(errors({ phone: '12345', langs: ['a', 'b', 'c'] })).toEqual(['langs: must have at most 2 items']);
    expect(errors({ phone: '12345', langs: ['toolong'] })).toEqual(['langs: every item must be at most 5 characters']);
    expect(errors({ phone: '12345', nickname: 'x' })).toEqual(['nickname: is not a declared profile attribute']);
  });

  it('lets an update clear an optional attribute (null) but not a required one', () => {
    expect(profile.attributeChanges.parse({ site: null })).toEqual({ site: null });
    expect(profile.attributeChanges.safeParse({ phone: null }).success).toBe(false);
  });

  it('builds the HTTP bodies and filters from the declaration', () => {
    expect(profile.RegisterUser.safeParse({ username: 'alice_1', email: 'a@example.com', password: 'correct horse', fio: 'A', birthday: '1990-01-01' }).success).toBe(false);
    expect(profile.SearchUsers.parse({ work_email: 'b.example' })).toMatchObject({ work_email: 'b.example' });
    expect(profile.split({ username: 'x', phone: '1', site: undefined })).toEqual({ rest: { username: 'x' }, attributes: { phone: '1' } });
    expect(profile.searchable()).toEqual(['work_email']);
    expect(profile.attributeFilters.safeParse({ phone: '1' }).success).toBe(false);
  });
});
