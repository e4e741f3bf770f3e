import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allRpcs } from './rpc.js';
import { bucketName, Buckets, eventSubject, Headers, Namespace, queueGroup, rpcSubject, streamName, Streams, usersEventSubject, usersEventWildcard } from './subjects.js';

describe('Namespace', () => {
  it.each(['a', 'dev', 'team_1-x', 'ABC_def-123', 'x'.repeat(32), '0'])('accepts %j', (ns) => {
    expect(Namespace.parse(ns)).toBe(ns);
  });

  it.each(['', 'x'.repeat(33), 'bad.ns', 'a b', 'a*', 'a>', 'ns/x', 'ünï', 'a\n', ' a', 'a$'])('rejects %j', (ns) => {
    expect(Namespace.safeParse(ns).success).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(Namespace.safeParse(12).success).toBe(false);
    expect(Namespace.safeParse(undefined).success).toBe(false);
  });
});

describe('subject and name helpers', () => {
  it('without a namespace use the bare names', () => {
    expect(rpcSubject(undefined, 'users.get')).toBe('um.rpc.users.get');
    expect(eventSubject(undefined, 'users.UserRegistered')).toBe('um.evt.users.UserRegistered');
    expect(queueGroup(undefined, 'users')).toBe('users');
    expect(streamName(undefined, Streams.usersEvents)).toBe('UM_USERS_EVENTS');
    expect(bucketName(undefined, Buckets.revocations)).toBe('um_revocations');
    expect(usersEventSubject(undefined, 'UserDeleted')).toBe('um.evt.users.UserDeleted');
    expect(usersEventWildcard(undefined)).toBe('um.evt.users.>');
  });

  it('treat an empty namespace as none', () => {
    expect(rpcSubject('', 'users.get')).toBe('um.rpc.users.get');
    expect(queueGroup('', 'users')).toBe('users');
    expect(streamName('', 'S')).toBe('S');
  });

  it('with a namespace prefix subjects with "ns." and names with "ns_"', () => {
    expect(rpcSubject('t1', 'users.get')).toBe('t1.um.rpc.users.get');
    expect(eventSubject('t1', 'users.UserRegistered')).toBe('t1.um.evt.users.UserRegistered');
    expect(queueGroup('t1', 'users')).toBe('t1_users');
    expect(streamName('t1', Streams.usersEvents)).toBe('t1_UM_USERS_EVENTS');
    expect(bucketName('t1', Buckets.revocations)).toBe('t1_um_revocations');
    expect(usersEventSubject('t1', 'UserDeleted')).toBe('t1.um.evt.users.UserDeleted');
    expect(usersEventWildcard('t1')).toBe('t1.um.evt.users.>');
  });

  it('every valid namespace yields dot-free stream/bucket names and distinct subject prefixes', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), (ns) => {
        expect(Namespace.safeParse(ns).success).toBe(true);
        expect(streamName(ns, Streams.usersEvents)).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(bucketName(ns, Buckets.revocations)).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(rpcSubject(ns, 'users.get').split('.')).toEqual([ns, 'um', 'rpc', 'users', 'get']);
        expect(usersEventWildcard(ns).startsWith(`${ns}.um.evt.users.`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('header names are lowercase', () => {
    expect(Headers).toEqual({ requestId: 'x-request-id', actorId: 'x-actor-id', accessToken: 'x-access-token', idempotencyKey: 'idempotency-key', progress: 'um-progress' });
  });

  it('every RPC has a unique subject under its service', () => {
    const names = allRpcs().map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of allRpcs()) {
      expect(r.name.startsWith(`${r.service}.`)).toBe(true);
      expect(rpcSubject('ns', r.name)).toBe(`ns.um.rpc.${r.name}`);
    }
  });
});
