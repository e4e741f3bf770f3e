import { BaseEnv, parseConfig } from '@um/platform';
import { z } from 'zod';

export const MailEnv = BaseEnv.extend({
  /** `smtp://user:pass@host:587` (or smtps://). Unset: messages are written to the log instead. */
  SMTP_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()),
  MAIL_FROM: z.string().min(3).default('User Management <no-reply@localhost>'),
});

export type MailConfig = Readonly<z.infer<typeof MailEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): MailConfig => parseConfig(MailEnv, env);
