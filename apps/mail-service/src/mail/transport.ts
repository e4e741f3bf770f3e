import { clearChild, type Logger } from '@um/platform';
import nodemailer from 'nodemailer';

export type MailTransport = ReturnType<typeof nodemailer.createTransport>;

/**
 * SMTP when `SMTP_URL` is set. Otherwise nothing leaves the machine: each message is rendered and
 * written, readable, to this service's log (the local default).
 */
export function createTransport(smtpUrl: string | undefined, log: Logger): MailTransport {
  if (smtpUrl) return nodemailer.createTransport(smtpUrl);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  // The one log line written with personal data in clear, on purpose, and only in this mode: it is the mailbox.
  const mailbox = clearChild(log);
  transport.use('stream', (mail, done) => {
    const { to, subject, text } = mail.data;
    mailbox.info({ to, subject, text }, 'email (not sent: SMTP_URL is not set)');
    done();
  });
  return transport;
}
