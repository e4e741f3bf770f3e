import { describe, expect, it } from 'vitest';
import { newDataKey, openPayload, sealPayload } from './pii-codec.js';

const stream = '01900000-0000-7000-8000-000000000001';
const data = { user_id: stream, role: 'user', username: 'alice_1', email: 'alice@example.com', fio: 'Alice', birthday: '1990-01-01', tags: ['a'] };

describe('personal data codec', () => {
  it('seals personal fields and keeps ids in clear', () => {
    const key = newDataKey();
    const sealed = sealPayload(data, key, stream);
    expect(Object.keys(sealed).sort()).toEqual(['pii', 'role', 'user_id']);
    const text = JSON.stringify(sealed);
    for (const secret of ['alice_1', 'alice@example.com', 'Alice', '1990-01-01']) expect(text).not.toContain(secret);
    expect(openPayload(sealed, key, stream)).toEqual({ data, erased: false });
  });

  it('cannot be read without the key, nor under another stream or key', () => {
    const key = newDataKey();
    const sealed = sealPayload(data, key, stream);
    expect(openPayload(sealed, undefined, stream)).toEqual({ data: { user_id: stream, role: 'user' }, erased: true });
    expect(() => openPayload(sealed, key, '01900000-0000-7000-8000-000000000002')).toThrow();
    expect(() => openPayload(sealed, newDataKey(), stream)).toThrow();
  });

  it('leaves payloads without personal data untouched and needs no key for them', () => {
    expect(sealPayload({ user_id: stream }, undefined, stream)).toEqual({ user_id: stream });
    expect(() => sealPayload(data, undefined, stream)).toThrow(/no data key/);
  });
});
