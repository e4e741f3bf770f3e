#!/usr/bin/env node
// Writes deploy/nats/nats-server.conf from the contracts (run after `npm run build`):
// `npm run nats:config`, or `node deploy/nats/generate-config.mjs [--gateway-replicas N] [namespace] [output]`.
// Each gateway replica gets its own NATS user, gateway-1 … gateway-N (default 3), and password variable.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_GATEWAY_REPLICAS, renderNatsServerConfig } from '@um/platform';

const { values, positionals } = parseArgs({ options: { 'gateway-replicas': { type: 'string', default: String(DEFAULT_GATEWAY_REPLICAS) } }, allowPositionals: true });
const replicas = Number(values['gateway-replicas']);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 999) {
  console.error(`--gateway-replicas must be a whole number from 1 to 999, got ${values['gateway-replicas']}`);
  process.exit(2);
}
const [namespace, out = fileURLToPath(new URL('nats-server.conf', import.meta.url))] = positionals;
writeFileSync(out, renderNatsServerConfig(namespace || undefined, replicas));
console.log(`wrote ${out} (gateway replicas: ${replicas})`);
