import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSupportedNode, MINIMUM_NODE, nodeVersionVerdict } from './node-version.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const runtime = (node: string, env: Record<string, string> = {}) => ({ versions: { node }, execPath: '/usr/bin/node', env });

describe('isSupportedNode', () => {
  it('compares major, minor and patch as numbers, with or without the v', () => {
    expect(isSupportedNode('26.10.0', '26.10.0')).toBe(true);
    expect(isSupportedNode('v26.10.1', '26.10.0')).toBe(true);
    expect(isSupportedNode('26.11.0', '26.10.0')).toBe(true);
    expect(isSupportedNode('27.0.0', '26.10.0')).toBe(true);
    expect(isSupportedNode('26.9.9', '26.10.0')).toBe(false);
    expect(isSupportedNode('v20.20.2', '26.10.0')).toBe(false);
    expect(isSupportedNode('9.99.99', '26.10.0')).toBe(false);
  });

  it('counts a version it cannot read as too old', () => {
    expect(isSupportedNode('', '26.10.0')).toBe(false);
    expect(isSupportedNode('twenty-six', '26.10.0')).toBe(false);
  });
});

describe('nodeVersionVerdict', () => {
  it('starts silently on the supported release or newer', () => {
    expect(nodeVersionVerdict('gateway', runtime(MINIMUM_NODE))).toEqual({ start: true });
  });

  it('refuses an older release, naming the app, the release found, its path, the one needed and how to get it', () => {
    const { start, message } = nodeVersionVerdict('gateway', runtime('20.20.2'), '26.10.0');
    expect(start).toBe(false);
    expect(message).toContain('gateway needs Node.js 26.10.0 or newer, and this is Node.js 20.20.2 (/usr/bin/node)');
    expect(message).toContain('npm start');
    expect(message).toContain('node_modules/.bin/node');
  });

  it('starts an older release with a warning when NODE_VERSION_CHECK=off', () => {
    const verdict = nodeVersionVerdict('gateway', runtime('20.20.2', { NODE_VERSION_CHECK: 'off' }), '26.10.0');
    expect(verdict.start).toBe(true);
    expect(verdict.message).toMatch(/running on Node.js 20.20.2 .*older than the supported 26.10.0, because NODE_VERSION_CHECK=off/);
  });
});

describe('the pinned runtime', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

  it('is one release everywhere it is named: the check, the node devDependency, engines, .nvmrc, .node-version', () => {
    expect(pkg.devDependencies.node).toBe(MINIMUM_NODE);
    expect(pkg.engines.node).toBe(`>=${MINIMUM_NODE}`);
    expect(readFileSync(`${root}.nvmrc`, 'utf8').trim()).toBe(MINIMUM_NODE);
    expect(readFileSync(`${root}.node-version`, 'utf8').trim()).toBe(MINIMUM_NODE);
    expect(pkg.devDependencies['@types/node'].split('.')[0]).toBe(MINIMUM_NODE.split('.')[0]);
    expect(readFileSync(`${root}Dockerfile`, 'utf8')).toContain(`ARG NODE_IMAGE=node:${MINIMUM_NODE.split('.')[0]}-`);
  });

  it('is what these tests run on (npm scripts put node_modules/.bin first on PATH)', () => {
    expect(isSupportedNode(process.versions.node)).toBe(true);
    expect(execFileSync('node', ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()).toBe(process.versions.node);
  });

  it('stops a process on an older Node.js before it loads anything else, with the message and status 1', () => {
    // The real module in a child that claims an older release: what `node dist/main.js` on Node 20 prints.
    const script = `Object.defineProperty(process.versions, 'node', { value: '20.20.2' });
      const { requireSupportedNode } = await import(${JSON.stringify(new URL('./node-version.ts', import.meta.url).href)});
      requireSupportedNode('gateway');
      console.log('started');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_VERSION_CHECK: '' } });
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('gateway needs Node.js');
    expect(child.stderr).not.toMatch(/\bat .*:\d+:\d+/);
    expect(child.stdout).not.toContain('started');
  });
});
