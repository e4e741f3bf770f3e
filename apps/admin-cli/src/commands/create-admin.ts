import { RegisterUser } from '@um/contracts';
import { invalidArgument } from '@um/platform';
import { writeJson, type Command } from '../command.js';
import { readNewPassword } from '../password-input.js';
import { withUsersService } from '../services.js';

export const createAdmin: Command = {
  name: 'create-admin',
  summary: 'create an admin account (the password is read without echo, or from stdin)',
  help: `Usage: npm run admin -- create-admin --username <name> --email <address> [--fio <text>] [--birthday <YYYY-MM-DD>] [--tags <a,b>]

Create an account with the admin role, through users-service's own registration: the same checks
as POST /register (username and email rules, uniqueness, look-alike names, the password policy).
The password is never an argument: at a terminal it is typed twice without echo; otherwise the
first line of standard input is taken (printf '%s\\n' "$PASSWORD" | npm run -s admin -- create-admin …).

Options:
  --username <name>       6–36 characters, as for registration (required)
  --email <address>       the admin's email (required)
  --fio <text>            full name (default: the username)
  --birthday <date>       YYYY-MM-DD (default: 1970-01-01)
  --tags <a,b>            comma-separated tags (default: none)
  -h, --help              this help

Prints the created user as JSON. Environment: DATABASE_URL, USERS_DB_SCHEMA, BCRYPT_COST,
PASSWORD_DENYLIST, as for users-service.`,
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    fio: { type: 'string' },
    birthday: { type: 'string' },
    tags: { type: 'string' },
  },
  positionals: [],
  async run(ctx) {
    const { username, email, fio, birthday, tags } = ctx.values as Record<string, string | undefined>;
    // Everything but the password first, so a typo is reported before anyone types a secret.
    const fields = { username, email, fio: fio ?? username, birthday: birthday ?? '1970-01-01', tags: tags ?? [] };
    const early = RegisterUser.omit({ password: true }).safeParse(fields);
    if (!early.success) throw invalidArgument('admin.create_admin.invalid', early.error);
    const password = await readNewPassword(ctx.stdin, ctx.stderr);
    const input = RegisterUser.safeParse({ ...fields, password });
    if (!input.success) throw invalidArgument('admin.create_admin.invalid', input.error);
    const user = await withUsersService(ctx, 'none', (users) => users.createAdmin(input.data));
    writeJson(ctx.stdout, user);
  },
};
