import type { NatsNeed } from '@um/users-service/dist/admin.js';
import type { CommandContext } from './command.js';

// The services' code (bcrypt, nats.js, pg…) loads only when a command runs: help and usage errors answer at once.
const usersService = () => import('@um/users-service/dist/admin.js');
const authService = () => import('@um/auth-service/dist/admin.js');

type UsersAdmin = Awaited<ReturnType<Awaited<ReturnType<typeof usersService>>['openUsersAdmin']>>;
type AuthAdmin = Awaited<ReturnType<Awaited<ReturnType<typeof authService>>['openAuthAdmin']>>;

/** users-service's admin operations, configured from the same environment as the service, closed after `fn`. */
export async function withUsersService<T>(ctx: CommandContext, nats: NatsNeed, fn: (users: UsersAdmin) => Promise<T>): Promise<T> {
  const { loadUsersConfig, openUsersAdmin } = await usersService();
  const users = await openUsersAdmin(loadUsersConfig(ctx.env), ctx.log, nats);
  try {
    return await fn(users);
  } finally {
    await users.close();
  }
}

/** auth-service's admin operations, configured from the same environment as the service, closed after `fn`. */
export async function withAuthService<T>(ctx: CommandContext, fn: (auth: AuthAdmin) => Promise<T>): Promise<T> {
  const { loadAuthConfig, openAuthAdmin } = await authService();
  const auth = await openAuthAdmin(loadAuthConfig(ctx.env), ctx.log);
  try {
    return await fn(auth);
  } finally {
    await auth.close();
  }
}
