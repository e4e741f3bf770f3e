import type { Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import type { Logger } from '@um/platform';

/** What a command may touch: its arguments, the environment, the three streams, a logger on stderr. */
export interface CommandContext {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
  log: Logger;
}

/** One admin command: its name, its help text, its options (node:util parseArgs), and what it does. */
export interface Command {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The command's full help: usage line first. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments accepted (their names, in order). */
  positionals: string[];
  run: (ctx: CommandContext) => Promise<void>;
}

/** Exit codes, the same for every command. */
export const EXIT = {
  ok: 0,
  /** The operation failed: a service, the database or NATS, or something unexpected. */
  failed: 1,
  /** Bad usage or input: unknown command or option, a missing or malformed argument, an invalid value or configuration. */
  usage: 2,
  /** Refused by the system's rules: no such user, a name already taken, the last admin. */
  refused: 3,
} as const;

/** Bad usage: the message says what is wrong; the command's help is pointed to. */
export class UsageError extends Error {}

/** Write a JSON document, one per command result, to a stream. */
export const writeJson = (out: Writable, value: unknown) => out.write(`${JSON.stringify(value, null, 2)}\n`);
