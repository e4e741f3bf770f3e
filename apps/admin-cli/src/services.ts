import { loadAuthConfig, openAuthAdmin } from '@um/auth-service/dist/admin.js';
import { loadUsersConfig, openUsersAdmin, type NatsNeed } from '@um/users-service/dist/admin.js';
import type { CommandContext } from './command.js';

type UsersAdmin = Awaited<ReturnType<typeof openUsersAdmin>>;
type AuthAdmin = Awaited<ReturnType<typeof openAuthAdmin>>;

/** users-service's admin operations, configured from the same environment as the service, closed after `fn`. */
export async function withUsersService<T>(ctx: CommandContext, nats: NatsNeed, fn: (users: UsersAdmin) => Promise<T>): Promise<T> {
  const users = await openUsersAdmin(loadUsersConfig(ctx.env), ctx.log, nats);
  try {
    return await fn(users);
  } finally {
    await users.close();
  }
}

/** auth-service's admin operations, configured from the same environment as the service, closed after `fn`. */
export async function withAuthService<T>(ctx: CommandContext, fn: (auth: AuthAdmin) => Promise<T>): Promise<T> {
  const auth = await openAuthAdmin(loadAuthConfig(ctx.env), ctx.log);
  try {
    return await fn(auth);
  } finally {
    await auth.close();
  }
}
