#!/usr/bin/env node
// The `um-admin` entry point: the Node.js check first, then the command line (cli.ts, imported only
// once the check passes: a static import would load every dependency before the check could run).
import { requireSupportedNode } from '@um/platform/node-version';

requireSupportedNode('um-admin');
await import('./cli.js');
