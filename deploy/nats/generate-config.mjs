#!/usr/bin/env node
// Writes deploy/nats/nats-server.conf from the contracts (run after `npm run build`):
// `npm run nats:config`, or `node deploy/nats/generate-config.mjs [namespace] [output]`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderNatsServerConfig } from '@um/platform';

const [namespace, out = fileURLToPath(new URL('nats-server.conf', import.meta.url))] = process.argv.slice(2);
writeFileSync(out, renderNatsServerConfig(namespace || undefined));
console.log(`wrote ${out}`);
