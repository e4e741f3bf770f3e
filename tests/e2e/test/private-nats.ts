import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** Tests that run a NATS server of their own need the nats-server binary. */
export const NATS_BIN = process.env.NATS_SERVER_BIN ?? ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find(existsSync);

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
