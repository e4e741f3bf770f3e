import type { Logger } from '@um/platform';
import nodemailer from 'nodemailer';

export type MailTransport = ReturnType<typeof nodemailer.createTransport>;

/**
 * SMTP when `SMTP_URL` is set. Otherwise nothing leaves the machine: each message is rendered and
 * written, readable, to this service's log (the local default).
 */
export function createTransport(smtpUrl: string | undefined, log: Logger): MailTransport {
  if (smtpUrl) return nodemailer.createTransport(smtpUrl);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  transport.use('stream', (mail, done) => {
    const { to, subject, text } = mail.data;
    log.info({ to, subject, text }, 'email (not sent: SMTP_URL is not set)');
    done();
  });
  return transport;
}
