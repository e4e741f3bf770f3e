import { registeredError } from '@um/contracts';
import { AppError, withTransaction, type PoolClient } from '@um/platform';
import { decide, isRejection, type Rejection, type UserCommand } from '../domain/decide.js';
import { fold } from '../domain/user.js';
import { appendToStream, assignUserId, lockStream, readStream, streamOf, type StoredEvent } from '../event-store/event-store.js';
import { project } from '../projections/users-projection.js';
import type { CallerMeta, UsersDeps } from './deps.js';

interface Hooks<P, R> {
  /** Runs first in the transaction, e.g. to read what the command will remove or facts across users the command carries. */
  prepare?: (client: PoolClient) => Promise<P>;
  /** Runs after events and projection are written, before commit: side tables, the reply. */
  after: (client: PoolClient, stored: StoredEvent[], prepared: P) => Promise<R>;
  /** What the caller is answered, when it is not `after`'s result as it is: recorded with the idempotency key. */
  reply?: (result: R) => unknown;
}

const MAX_ATTEMPTS = 3;

/** Whom a command is about: an existing user by id, or a registration, which opens a new stream and is given the next id. */
export type CommandTarget = { userId: number } | { newStream: string };

/**
 * A command, or how to make it in the transaction: once the user's id is known (a registration's is
 * given in it), from what `prepare` read, at the time the stream is locked.
 */
type CommandOf<P> = UserCommand | ((userId: number, prepared: P) => UserCommand);

/** A rejection as the error the caller gets. */
const rejectionError = (command: UserCommand, r: Rejection) => {
  const options = r.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: r.retryAfterSeconds };
  if (r.id) return new AppError(...registeredError(`users.${r.id}`), r.message, undefined, options);
  return new AppError(r.reason, `users.${command.type}.${r.reason}`, r.message, undefined, options);
};

/**
 * The write path of every command: load the stream, decide, append, project, commit, all in one
 * transaction, with the caller's idempotency key and the reply when it sent one. A concurrent writer
 * to the same stream makes the append conflict; the command is then decided again on the new state.
 */
export async function handleCommand<P, R>(deps: UsersDeps, target: CommandTarget, commandOf: CommandOf<P>, meta: CallerMeta, hooks: Hooks<P, R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(deps.pool, async (client) => {
        // An id never given has no stream: the command is decided on no history (and refused as not found).
        const streamId = 'newStream' in target ? target.newStream : await streamOf(client, target.userId);
        // One writer per stream at a time, before any row is written: a stream's transaction ids
        // then grow with its versions, which keeps the relay's (xid, position) order per stream.
        if (streamId) await lockStream(client, streamId);
        const prepared = (await hooks.prepare?.(client)) as P;
        const history = streamId && !('newStream' in target) ? await readStream(client, streamId) : [];
        // A registration's id comes from the identity, inside this transaction, and is recorded in its event.
        const command = typeof commandOf === 'function' ? commandOf('newStream' in target ? await assignUserId(client, target.newStream) : target.userId, prepared) : commandOf;
        const result = decide(command, fold(history));
        if (isRejection(result)) throw rejectionError(command, result);
        if (!streamId) throw new Error(`${command.type} decided events for a user without a stream`);
        const stored = await appendToStream(client, streamId, history.length, result, { request_id: meta.requestId, actor_id: meta.actorId }, deps.clock());
        for (const s of stored) await project(client, s);
        const answer = await hooks.after(client, stored, prepared);
        // The outcome commits with the write or not at all: a repeat of the request with the same
        // key (the caller's retry after a lost reply) is answered from here and never acts twice.
        await deps.idempotency.answer(client, meta.idempotency, hooks.reply ? hooks.reply(answer) : answer);
        return answer;
      });
    } catch (e) {
      if (e instanceof AppError && e.id === 'events.version_conflict' && attempt < MAX_ATTEMPTS) continue;
      throw e;
    }
  }
}
