import { existsSync } from 'node:fs';

/** Tests that run a NATS server of their own need the nats-server binary. */
export const NATS_BIN = process.env.NATS_SERVER_BIN ?? ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find(existsSync);
