import { clearChild, type Logger } from '@um/platform';
import nodemailer from 'nodemailer';

/** One email as mail-service writes it. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Where emails go: SMTP, the log, or a test's fake. `sendMail` resolves once the message was accepted. */
export interface MailTransport {
  sendMail(message: MailMessage): Promise<unknown>;
  close(): void;
}

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
