#!/usr/bin/env node
// Writes the gateway's OpenAPI document (the one GET /openapi.json serves) to a file, for Redocly's
// lint in `npm run check` (run after `npm run build`): `node scripts/openapi.mjs <output>`.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '@um/gateway/dist/openapi/document.js';

const out = process.argv[2];
if (!out) throw new Error('usage: node scripts/openapi.mjs <output.json>');
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
