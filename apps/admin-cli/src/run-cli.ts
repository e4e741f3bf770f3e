import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { AppError, ConfigError, createLogger, LogLevel } from '@um/platform';
import { EXIT, UsageError, type Command } from './command.js';
import { createAdmin } from './commands/create-admin.js';
import { eraseUser } from './commands/erase-user.js';
import { exportUser } from './commands/export-user.js';
import { rebuildProjection } from './commands/rebuild-projection.js';
import { replay } from './commands/replay.js';
import { rotateKeys } from './commands/rotate-keys.js';

export const COMMANDS: Command[] = [createAdmin, rotateKeys, rebuildProjection, replay, exportUser, eraseUser];

const TOP_HELP = `Usage: npm run admin -- <command> [options]      (or the um-admin bin)

Operator commands for user management. They act on the services' own data, with the services'
own code, under the same environment variables as the services (DATABASE_URL, USERS_DB_SCHEMA,
AUTH_DB_SCHEMA, NATS_URL, NATS_NAMESPACE, SIGNING_KEY_KEK…).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(20)}${c.summary}`).join('\n')}

Run "npm run admin -- <command> --help" for a command's options. Results go to stdout as JSON;
progress and messages to stderr. Exit codes: 0 done, 1 failed (database, NATS, unexpected),
2 bad usage or input, 3 refused (no such user, already taken, the last admin).
LOG_LEVEL (default warn) sets how much the services' code logs to stderr.`;

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

const REFUSED = new Set(['not_found', 'already_exists', 'permission_denied', 'resource_exhausted', 'unauthenticated']);

/** How an error reads for an operator, and the exit code it ends with. Never a stack trace. */
function describe(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage };
  // Includes a KEK that cannot open the stored keys (SealedSecretError).
  if (err instanceof ConfigError) return { message: err.message, code: EXIT.usage };
  if (err instanceof AppError) {
    const fields = err.fields?.length ? `\n${err.fields.map((f) => `  ${f.field}: ${f.message}`).join('\n')}` : '';
    const message = err.fields?.length && err.code === 'invalid_argument' ? 'invalid input' : err.message;
    if (err.code === 'invalid_argument' || err.code === 'bad_request') return { message: `${message}${fields}`, code: EXIT.usage };
    if (REFUSED.has(err.code)) return { message: `${message}${fields}`, code: EXIT.refused };
    return { message: err.message, code: EXIT.failed };
  }
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failed };
}

/** Parse `argv`, run one command, and answer the exit code; every outcome is written, none is thrown. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(`${TOP_HELP}\n`);
    return EXIT.usage;
  }
  if (isHelp(name)) {
    const about = rest[0] !== undefined ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (rest[0] !== undefined && !about) {
      io.stderr.write(`admin: unknown command "${rest[0]}"\n\n${TOP_HELP}\n`);
      return EXIT.usage;
    }
    io.stdout.write(`${about ? about.help : TOP_HELP}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`admin: unknown command "${name}"\n\n${TOP_HELP}\n`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(`${command.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length > command.positionals.length)
      throw new UsageError(
        command.positionals.length ? `too many arguments: expected ${command.positionals.map((p) => `<${p}>`).join(' ')}` : `takes no arguments, got "${positionals.join(' ')}"`,
      );
    const level = LogLevel.safeParse(env.LOG_LEVEL || 'warn');
    if (!level.success) throw new UsageError(`LOG_LEVEL must be one of ${LogLevel.options.join(', ')}`);
    const log = createLogger(`admin-cli`, level.data, {}, io.stderr);
    await command.run({ positionals, values, env, stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, log });
    return EXIT.ok;
  } catch (err) {
    // parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS code.
    const usage = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? new UsageError((err as Error).message) : err;
    const { message, code } = describe(usage);
    io.stderr.write(`admin ${command.name}: ${message}\n`);
    if (code === EXIT.usage) io.stderr.write(`Run "npm run admin -- ${command.name} --help" for usage.\n`);
    return code;
  }
}
