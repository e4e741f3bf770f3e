import { describe, expect, it } from 'vitest';
import { clearChild, createLogger } from './logger.js';
import { maskEmail, maskInText, maskPersonal, personalMasker } from './personal-data.js';

function capture() {
  const raw: string[] = [];
  return { stream: { write: (line: string) => void raw.push(line) }, raw, text: () => raw.join('') };
}

describe('maskEmail', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmail('alice@example.com')).toBe('a***@example.com');
    expect(maskEmail('a@b.io')).toBe('a***@b.io');
    expect(maskEmail('no-at-sign')).toBe('n***');
  });
});

describe('personalMasker', () => {
  it.each(['email', 'Email', 'new_email', 'username', 'userName', 'fio', 'name', 'first_name', 'firstName', 'last-name', 'phone', 'birthday', 'birthDate', 'tags', 'tag'])(
    'treats %s as personal',
    (key) => expect(personalMasker(key)).toBeDefined(),
  );
  it.each(['id', 'user_id', 'role', 'email_verified', 'rpc', 'type', 'status', 'created_at', 'usernames_count'])('leaves %s alone', (key) =>
    expect(personalMasker(key)).toBeUndefined(),
  );
});

describe('maskPersonal', () => {
  it('masks personal fields at any depth, keeping the shape and everything else', () => {
    const user = {
      id: '0b9a3c1e-5f2d-4c7a-9e8b-1a2b3c4d5e6f',
      username: 'alice_1',
      email: 'alice@example.com',
      config: { fio: 'Alice Example', birthday: '1990-01-02', tags: ['a'] },
      role: 'user',
      email_verified: true,
    };
    expect(maskPersonal({ items: [user], total: 1 })).toEqual({
      items: [{ ...user, username: 'a***', email: 'a***@example.com', config: { fio: 'A***', birthday: '****-**-**', tags: ['a***'] } }],
      total: 1,
    });
  });

  it('masks both sides of a recorded change', () => {
    expect(maskPersonal({ changes: { email: { from: 'old@example.com', to: 'new@example.org' }, tags: { from: [], to: ['xenon'] } } })).toEqual({
      changes: { email: { from: 'o***@example.com', to: 'n***@example.org' }, tags: { from: [], to: ['x***'] } },
    });
  });

  it('masks tags one by one, as a list or as the comma-separated text a query or form sends', () => {
    expect(maskPersonal({ tags: ['diabetic', 'berlin'] })).toEqual({ tags: ['d***', 'b***'] });
    expect(maskPersonal({ tags: 'diabetic, berlin' })).toEqual({ tags: 'd***,b***' });
  });

  it('masks email addresses and Postgres key values inside free text and errors', () => {
    expect(maskInText('could not send to <bob.smith@mail.example.net>: 550')).toBe('could not send to <b***@mail.example.net>: 550');
    expect(maskInText('Key (username_key)=(alice_1) already exists.')).toBe('Key (username_key)=(***) already exists.');
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      detail: 'Key (lower(email))=(alice@example.com) already exists.',
      name: 'error',
      code: '23505',
    });
    const masked = maskPersonal({ err: pgError }) as { err: Record<string, unknown> };
    expect(JSON.stringify(masked)).not.toContain('alice');
    expect(masked.err).toMatchObject({ message: pgError.message, detail: 'Key (lower(email))=(***) already exists.', code: '23505', name: 'error' });
  });

  it('is idempotent', () => {
    const once = maskPersonal({ email: 'alice@example.com', fio: 'Alice', birthday: '1990-01-02', note: 'mail carol@example.com' });
    expect(maskPersonal(once)).toEqual(once);
  });

  it('leaves class instances (requests, dates) to their serializers', () => {
    const when = new Date(0);
    expect((maskPersonal({ when }) as { when: Date }).when).toBe(when);
  });
});

describe('createLogger and personal data', () => {
  it('masks personal data by default, in objects and in error causes', () => {
    const out = capture();
    const log = createLogger('svc-test', 'info', {}, out.stream);
    log.info({ user: { email: 'alice@example.com', username: 'alice_1' } }, 'hello');
    log.error({ err: Object.assign(new Error('rejected'), { detail: 'Key (email)=(alice@example.com) already exists.' }) }, 'rpc failed');
    expect(out.text()).not.toContain('alice@example.com');
    expect(out.text()).not.toContain('alice_1');
    expect(out.text()).toContain('a***@example.com');
    expect(JSON.parse(out.raw[1]!).err).toMatchObject({ type: 'Error', message: 'rejected', detail: 'Key (email)=(***) already exists.' });
  });

  it('still redacts secrets when masking', () => {
    const out = capture();
    createLogger('svc-test', 'info', {}, out.stream).info({ password: 'hunter2-s3cr3t', body: { token: 'x' } });
    expect(out.text()).not.toContain('hunter2-s3cr3t');
  });

  it('writes personal data as given with personalData: clear, and in a clear child', () => {
    const out = capture();
    const log = createLogger('svc-test', 'info', { personalData: 'clear' }, out.stream);
    log.info({ email: 'alice@example.com' });
    const masked = capture();
    clearChild(createLogger('svc-test', 'info', {}, masked.stream), { dev: true }).info({ to: 'bob@example.com', text: 'hi' });
    expect(out.text()).toContain('alice@example.com');
    expect(masked.text()).toContain('bob@example.com');
  });
});
