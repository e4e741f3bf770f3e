import { BaseEnv, DatabaseEnv, optionalEnv, parseConfig, SchemaName } from '@um/platform';
import { z } from 'zod';

export const MailEnv = BaseEnv.extend(DatabaseEnv.shape).extend({
  MAIL_DB_SCHEMA: SchemaName.default('mail_service'),
  /** `smtp://user:pass@host:587` (or smtps://). Unset: messages are written to the log instead. */
  SMTP_URL: optionalEnv(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')),
  MAIL_FROM: z.string().min(3).default('User Management <no-reply@localhost>'),
  /** Where links in emails point: the gateway as users reach it. */
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http(s) URL')
    .transform((s) => s.replace(/\/+$/, ''))
    .default('http://localhost:8080'),
  /** Redelivery backoff after a failure: doubles from the base up to the max. */
  MAIL_RETRY_BASE_MS: z.coerce.number().int().min(10).default(1000),
  MAIL_RETRY_MAX_MS: z.coerce.number().int().min(10).default(60_000),
});

export type MailConfig = Readonly<z.infer<typeof MailEnv>>;

export const loadConfig = (env: NodeJS.ProcessEnv): MailConfig => parseConfig(MailEnv, env);
