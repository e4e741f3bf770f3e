import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys, type Auth, type Authenticator } from '@nats-io/nats-core';
import { afterAll, describe, expect, it } from 'vitest';
import { natsConnectOptions } from './nats-connect.js';

const dir = mkdtempSync(join(tmpdir(), 'um-nats-connect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { NATS_URL: 'nats://a:4222,nats://b:4222' };

const authenticate = (a: Authenticator | Authenticator[] | undefined, nonce = 'nonce-1') => (a as Authenticator)(nonce) as Auth & { nkey?: string; jwt?: string; sig?: string };

describe('natsConnectOptions', () => {
  it('connects anonymously to every listed server, with the service name and its own inbox prefix', () => {
    const o = natsConnectOptions(base, 'mail-service');
    expect(o).toMatchObject({ servers: ['nats://a:4222', 'nats://b:4222'], name: 'mail-service', inboxPrefix: '_INBOX_mail-service', maxReconnectAttempts: -1 });
    for (const key of ['user', 'pass', 'token', 'authenticator', 'tls']) expect(o).not.toHaveProperty(key);
  });

  it('passes a user and password, or a token', () => {
    expect(natsConnectOptions({ ...base, NATS_USER: 'gateway', NATS_PASSWORD: 'pw' }, 'gateway')).toMatchObject({ user: 'gateway', pass: 'pw' });
    expect(natsConnectOptions({ ...base, NATS_TOKEN: 'tok' }, 'gateway')).toMatchObject({ token: 'tok' });
  });

  it('signs the server nonce with the nkey seed in the file, read again at every connect', () => {
    const file = join(dir, 'seed.nk');
    const first = nkeys.createUser();
    writeFileSync(file, `${new TextDecoder().decode(first.getSeed())}\n`);
    const o = natsConnectOptions({ ...base, NATS_NKEY_SEED: file }, 'gateway');
    const auth = authenticate(o.authenticator);
    expect(auth.nkey).toBe(first.getPublicKey());
    expect(first.verify(new TextEncoder().encode('nonce-1'), Uint8Array.from(Buffer.from(auth.sig!, 'base64url')))).toBe(true);

    const rotated = nkeys.createUser();
    writeFileSync(file, new TextDecoder().decode(rotated.getSeed()));
    expect(authenticate(o.authenticator).nkey).toBe(rotated.getPublicKey());
  });

  it('presents the JWT of a .creds file and signs with its seed', () => {
    const user = nkeys.createUser();
    const jwt = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ0ZXN0In0.c2ln';
    const file = join(dir, 'user.creds');
    writeFileSync(
      file,
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
    );
    const auth = authenticate(natsConnectOptions({ ...base, NATS_CREDS: file }, 'auth-service').authenticator);
    expect(auth).toMatchObject({ jwt, nkey: user.getPublicKey() });
  });

  it('turns on TLS with the given CA and client certificate files', () => {
    expect(natsConnectOptions({ ...base, NATS_TLS_CA: '/ca.pem' }, 'gateway').tls).toEqual({ caFile: '/ca.pem' });
    expect(natsConnectOptions({ ...base, NATS_TLS_CERT: '/c.pem', NATS_TLS_KEY: '/k.pem' }, 'gateway').tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
  });
});
