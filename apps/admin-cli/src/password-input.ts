import { read } from 'read';
import { UsageError } from './command.js';

/** Everything on a stream that is not a terminal, up to its end. */
async function readAll(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A new password: typed twice at a terminal without echo, or, when standard input is not a
 * terminal (a pipe, a secrets file), its first line. Never an argument, which would stay in the
 * shell's history and show in the process list.
 */
export async function readNewPassword(stdin: NodeJS.ReadStream, prompts: NodeJS.WriteStream): Promise<string> {
  if (!stdin.isTTY) {
    const line = (await readAll(stdin)).split(/\r?\n/)[0] ?? '';
    if (!line) throw new UsageError('no password on standard input: pipe it in as the first line, or run at a terminal to type it');
    return line;
  }
  const ask = (prompt: string) => read({ prompt, silent: true, replace: '', input: stdin, output: prompts });
  const password = await ask('Password:');
  if (!password) throw new UsageError('no password typed');
  if ((await ask('Repeat password:')) !== password) throw new UsageError('the two passwords differ');
  return password;
}
