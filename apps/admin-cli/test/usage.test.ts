import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/run-cli.js';

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** The built command line as its own process, with no database or NATS behind it: usage is checked before either is touched. */
function admin(args: string[], env: Record<string, string> = {}, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', NATS_URL: 'nats://127.0.0.1:1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('admin --help', () => {
  it('lists every command at the top level, on stdout, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = await admin(args);
      expect(run.code).toBe(0);
      for (const c of COMMANDS) expect(run.stdout).toContain(`  ${c.name}`);
      expect(run.stdout).toMatch(/Exit codes: 0 done, 1 failed .*\s2 bad usage or input, 3 refused/s);
    }
  });

  it('shows each command its own help, exit 0, touching nothing', async () => {
    const asks = COMMANDS.flatMap((c, i) =>
      [
        [c.name, i % 2 ? '-h' : '--help'],
        ['help', c.name],
      ].map((args) => ({ name: c.name, args })),
    );
    const runs = await Promise.all(asks.map(({ args }) => admin(args)));
    for (const [i, run] of runs.entries()) {
      expect(run.code, asks[i]!.args.join(' ')).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: npm run (-s )?admin -- ${asks[i]!.name}`));
      expect(run.stderr).toBe('');
    }
  }, 90_000);

  it('answers no command with the usage on stderr, exit 2', async () => {
    const run = await admin([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Usage: npm run admin -- <command>/);
  });
});

describe('bad input', () => {
  it.each([
    [['frobnicate'], /admin: unknown command "frobnicate"/],
    [['help', 'frobnicate'], /admin: unknown command "frobnicate"/],
    [['rotate-keys', '--force'], /admin rotate-keys: Unknown option '--force'/],
    [['rebuild-projection', 'now'], /admin rebuild-projection: takes no arguments, got "now"/],
    [['export-user'], /admin export-user: a user id is required/],
    [['export-user', 'alice'], /admin export-user: "alice" is not a user id/],
    [['export-user', '01900000-0000-7000-8000-000000000001', 'extra'], /admin export-user: too many arguments: expected <id>/],
    [['export-user', '01900000-0000-7000-8000-000000000001', '--output'], /admin export-user: Option '-o, --output <value>' argument missing/],
    [['erase-user', '01900000-0000-7000-8000-000000000001'], /admin erase-user: erasing a user is irreversible: add --yes to confirm/],
    [['erase-user', 'x', '--yes'], /admin erase-user: "x" is not a user id/],
    [['create-admin', '--username', 'ab'], /admin create-admin: invalid input\n {2}username: .*\n {2}email: is required/],
    [['create-admin', '--username', 'admin_one', '--email', 'admin@example.com', '--birthday', '1899-12-31'], /birthday: /],
  ])('%j: a message naming the problem, the help pointed to, exit 2', async (args, message) => {
    const run = await admin(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('asks for the password only once the other fields are valid, and refuses an empty one', async () => {
    const run = await admin(['create-admin', '--username', 'admin_one', '--email', 'admin@example.com'], {}, '');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no password on standard input/);
  });

  it('names a bad configuration variable, exit 2', async () => {
    const run = await admin(['rebuild-projection'], { USERS_DB_SCHEMA: 'Not-A-Schema' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/USERS_DB_SCHEMA: must be a lowercase SQL identifier/);
  });

  it('says the database cannot be reached, exit 1', async () => {
    const run = await admin(['rebuild-projection']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^admin rebuild-projection: .*(ECONNREFUSED|connect)/);
  });
});
