#!/usr/bin/env node
// Writes the gateway's OpenAPI document (the one GET /openapi.json serves) to a file, for Redocly's
// lint in `npm run check` (run after `npm run build`): `node scripts/openapi.mjs <output> [profile.json]`
// (the document of a deployment with that PROFILE_SCHEMA; the built-in attributes only without one).
import { writeFileSync } from 'node:fs';
import { buildRoutes } from '@um/gateway/dist/http/routes.js';
import { openApiDocument } from '@um/gateway/dist/openapi/document.js';
import { loadProfile } from '@um/platform';

const [out, profileFile] = process.argv.slice(2);
if (!out) throw new Error('usage: node scripts/openapi.mjs <output.json> [profile.json]');
writeFileSync(out, `${JSON.stringify(openApiDocument(buildRoutes(loadProfile(profileFile))), null, 2)}\n`);
