// The Node.js release check every entry point runs before anything else loads. Each app's main.ts
// imports this module alone and then its real entry with a dynamic import: static imports are all
// evaluated before the importing module's own code, so a dependency that fails on an old runtime would
// otherwise throw its stack trace before a check in main.ts could say anything. This module imports
// nothing, so it loads on any Node.js that runs ES modules.

/**
 * The oldest Node.js release the system runs on: the one `npm ci` installs (the root package.json's
 * `node` devDependency, also in `engines`, `.nvmrc` and `.node-version`; a test keeps them equal).
 */
export const MINIMUM_NODE = '26.10.0';

/** `NODE_VERSION_CHECK=off` starts anyway, with a warning: the bench runs the system on an older Node.js to compare. */
const BYPASS = 'NODE_VERSION_CHECK';

const parts = (version: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1, 4).map(Number);

/** Whether `version` (`20.20.2` or `v20.20.2`) is at least `minimum`. An unreadable version counts as too old. */
export function isSupportedNode(version: string, minimum = MINIMUM_NODE): boolean {
  const [have, need] = [parts(version), parts(minimum)];
  if (have.length < 3) return false;
  for (let i = 0; i < 3; i++) if (have[i] !== need[i]) return have[i]! > need[i]!;
  return true;
}

interface Runtime {
  versions: { node: string };
  execPath: string;
  env: Record<string, string | undefined>;
}

/** What `name` should say before starting on `runtime`: nothing, a warning (check bypassed) or why it must not start. */
export function nodeVersionVerdict(name: string, runtime: Runtime, minimum = MINIMUM_NODE): { start: boolean; message?: string } {
  const version = runtime.versions.node;
  if (isSupportedNode(version, minimum)) return { start: true };
  const found = `Node.js ${version} (${runtime.execPath})`;
  if (runtime.env[BYPASS] === 'off') return { start: true, message: `${name}: running on ${found}, older than the supported ${minimum}, because ${BYPASS}=off` };
  return {
    start: false,
    message:
      `${name} needs Node.js ${minimum} or newer, and this is ${found}.\n` +
      `Run it through npm (npm start, npm run …): after \`npm ci\`, npm scripts use the Node.js ${minimum} it installs in node_modules/.bin.\n` +
      `Or run that Node.js directly: node_modules/.bin/node <app>/dist/main.js (nvm/fnm users: \`nvm use\` reads .nvmrc).`,
  };
}

/** Exits with status 1 and a readable message when this process runs on a Node.js older than the supported one. */
export function requireSupportedNode(name: string): void {
  const { start, message } = nodeVersionVerdict(name, process);
  if (message) process.stderr.write(`${message}\n`);
  if (!start) process.exit(1);
}
