// The process entry point: the Node.js check first, then the service. start.ts is imported only once
// the check passes (a static import would load every dependency before the check could run).
import { requireSupportedNode } from '@um/platform/node-version';

requireSupportedNode('gateway');
await import('./start.js');
