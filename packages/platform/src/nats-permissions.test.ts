import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allRpcs, rpcSubject, Rpcs, Services } from '@um/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_REPLICAS, natsPasswordVariable, natsUsers, renderNatsServerConfig } from './nats-permissions.js';

const COMMITTED = fileURLToPath(new URL('../../../deploy/nats/nats-server.conf', import.meta.url));

/** Does a NATS subject pattern (`*` one token, `>` the rest) cover `subject`? */
function covers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

const users = natsUsers();
/** The services (whichever of their NATS users) allowed to publish or subscribe to a subject. */
const servicesWhere = (allowed: (u: (typeof users)[number]) => boolean) => [...new Set(users.filter(allowed).map((u) => u.service))];
const mayPublish = (subject: string) => servicesWhere((u) => u.permissions.publish.some((p) => covers(p, subject)));
const maySubscribe = (subject: string) => servicesWhere((u) => u.permissions.subscribe.some((p) => covers(p, subject)));
const usersSubscribing = (subject: string) => users.filter((u) => u.permissions.subscribe.some((p) => covers(p, subject))).map((u) => u.user);

describe('NATS permissions', () => {
  it('the committed deploy/nats/nats-server.conf is the generated one (run `npm run nats:config` after changing the contracts)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(renderNatsServerConfig());
  });

  it.each(allRpcs().map((r) => [r.name, r] as const))('%s: only its callers may request it, only its owner may answer', (_name, rpc) => {
    const subject = rpcSubject(undefined, rpc.name);
    expect(mayPublish(subject).sort()).toEqual([...rpc.callers].sort());
    expect(maySubscribe(subject)).toEqual([`${rpc.service}-service`]);
  });

  it('keeps the privileged operations from the issue behind the one service that needs each', () => {
    expect(mayPublish(rpcSubject(undefined, Rpcs.users.setRole.name))).toEqual(['gateway']);
    expect(mayPublish(rpcSubject(undefined, Rpcs.users.verifyCredentials.name))).toEqual(['auth-service']);
    expect(mayPublish(rpcSubject(undefined, Rpcs.users.issueEmailConfirmation.name))).toEqual(['mail-service']);
  });

  it('lets only users-service publish users events, only the writers touch revocations, each read only its own inbox', () => {
    expect(mayPublish('um.evt.users.UserRoleChanged')).toEqual(['users-service']);
    expect(mayPublish('$KV.um_revocations.user.abc').sort()).toEqual(['auth-service', 'users-service']);
    for (const s of Services.filter((s) => s !== 'gateway')) expect(usersSubscribing(`_INBOX_${s}.abc.1`)).toEqual([s]);
    expect(maySubscribe('_INBOX.abc')).toEqual([]);
    expect(maySubscribe('_INBOX_gateway.abc.1')).toEqual([]);
    expect(maySubscribe('um.evt.users.UserDeleted')).toEqual([]);
  });

  it('gives each gateway replica its own user, with the same rights but reading only its own replies', () => {
    const gateways = users.filter((u) => u.service === 'gateway');
    expect(gateways.map((u) => u.user)).toEqual(Array.from({ length: DEFAULT_GATEWAY_REPLICAS }, (_, i) => `gateway-${i + 1}`));
    for (const g of gateways) {
      expect(usersSubscribing(`_INBOX_${g.user}.abc.1`)).toEqual([g.user]);
      expect(g.permissions.publish).toEqual(gateways[0]!.permissions.publish);
    }
    // `gateway-1.>` must not cover `gateway-10`'s inbox: the prefix is a whole token.
    const many = natsUsers(undefined, 12);
    expect(many.filter((u) => u.permissions.subscribe.some((p) => covers(p, '_INBOX_gateway-10.x.1'))).map((u) => u.user)).toEqual(['gateway-10']);
    expect(() => natsUsers(undefined, 0)).toThrow(/positive integer/);
  });

  it('lets each durable consumer be pulled and acknowledged only by its service', () => {
    expect(mayPublish('$JS.API.CONSUMER.MSG.NEXT.UM_USERS_EVENTS.mail_service')).toEqual(['mail-service']);
    expect(mayPublish('$JS.ACK.UM_USERS_EVENTS.mail_service.1.2.3.4.5.6')).toEqual(['mail-service']);
    expect(mayPublish('$JS.API.CONSUMER.MSG.NEXT.UM_USERS_EVENTS.auth_service')).toEqual(['auth-service']);
    expect(mayPublish('$JS.API.STREAM.DELETE.UM_USERS_EVENTS')).toEqual([]);
    expect(mayPublish('$JS.API.STREAM.PURGE.KV_um_revocations')).toEqual([]);
  });

  it('namespaces every subject, stream and consumer like NATS_NAMESPACE does', () => {
    const ns = Object.fromEntries(natsUsers('team1').map((u) => [u.user, u.permissions]));
    expect(ns['gateway-2']!.publish).toContain('team1.um.rpc.users.set_role');
    expect(ns['mail-service']!.publish).toContain('$JS.API.CONSUMER.MSG.NEXT.team1_UM_USERS_EVENTS.team1_mail_service');
    expect(ns['users-service']!.publish).toContain('$KV.team1_um_revocations.>');
  });

  it('takes each password from its own server environment variable and lets no one in anonymously', () => {
    const conf = renderNatsServerConfig();
    for (const { user } of users) expect(conf).toContain(`user: "${user}"\n      password: $${natsPasswordVariable(user)}\n`);
    expect(natsPasswordVariable('users-service')).toBe('NATS_USERS_SERVICE_PASSWORD');
    expect(natsPasswordVariable('gateway-2')).toBe('NATS_GATEWAY_2_PASSWORD');
    expect(conf).not.toMatch(/user: "gateway"/);
    expect(conf).not.toMatch(/no_auth_user/);
  });
});
