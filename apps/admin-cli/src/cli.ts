import { runCli } from './run-cli.js';

/** `npm run admin -- <command>` (or the `um-admin` bin): one command, then exit with its code. */
const code = await runCli(process.argv.slice(2), process.env, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
// Exit once the output is written, whatever connection attempts are still pending.
process.stdout.write('', () => process.exit(code));
