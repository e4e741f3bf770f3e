import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isSupportedNode, MINIMUM_NODE } from '@um/platform/node-version';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** An older Node.js on this machine (OLD_NODE, or the system's /usr/bin/node when it is older than the pinned one). */
function olderNode(): string | undefined {
  for (const path of [process.env.OLD_NODE, '/usr/bin/node', '/usr/local/bin/node']) {
    if (!path || !existsSync(path)) continue;
    const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (!isSupportedNode(version)) return path;
  }
  return undefined;
}
const old = olderNode();

describe.skipIf(!old)(`the built apps started directly with an older Node.js (${old ?? 'none found'})`, () => {
  const entries = {
    gateway: 'apps/gateway/dist/main.js',
    'users-service': 'apps/users-service/dist/main.js',
    'auth-service': 'apps/auth-service/dist/main.js',
    'mail-service': 'apps/mail-service/dist/main.js',
    'um-admin': 'apps/admin-cli/dist/main.js',
    'scripts/start.mjs': 'scripts/start.mjs',
  };

  it.each(Object.entries(entries))('%s says which Node.js it needs and exits 1, with no stack trace and nothing started', (name, entry) => {
    // No database or NATS behind it: a process that got past the check would fail differently (or hang).
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', NATS_URL: 'nats://127.0.0.1:1' };
    const run = spawnSync(old!, [entry], { cwd: ROOT, env, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${name} needs Node.js ${MINIMUM_NODE} or newer`);
    expect(run.stderr).toContain('node_modules/.bin');
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(run.stdout).toBe('');
  });
});
