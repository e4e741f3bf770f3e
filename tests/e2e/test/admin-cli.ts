import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../apps/admin-cli/dist/main.js', import.meta.url));

export interface AdminRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `npm run admin -- <args>` as its own process (the built bin), standard input from `input` (else empty), logging warnings only. */
export function runAdmin(args: string[], env: Record<string, string | undefined>, input?: string): Promise<AdminRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Run it at a terminal (a pseudo-terminal made by util-linux `script`), typing `keystrokes` each once the previous prompt showed. */
export function runAdminAtTerminal(
  args: string[],
  env: Record<string, string | undefined>,
  answers: Array<{ after: RegExp; type: string }>,
): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-q', '-e', '-c', quoted, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...env, LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    let seen = 0;
    const onData = (d: Buffer) => {
      screen += String(d);
      const answer = answers[next];
      if (answer && answer.after.test(screen.slice(seen))) {
        seen = screen.length;
        next++;
        child.stdin.write(answer.type);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, screen }));
  });
}
