import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  to: string;
  subject: string;
  text: string;
  link: string | undefined;
}

/**
 * A real SMTP server capturing every accepted message. `refuse = true` makes it answer 451
 * (try again later) to every recipient, as a server in trouble would.
 */
export class SmtpSink {
  readonly mails: CapturedMail[] = [];
  refuse = false;
  refusals = 0;
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        if (this.refuse) {
          this.refusals++;
          const err = Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 });
          return callback(err);
        }
        callback();
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream).then(
          (mail) => {
            const text = mail.text ?? '';
            const to = Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text;
            this.mails.push({ to: to ?? '', subject: mail.subject ?? '', text, link: /https?:\/\/\S+confirm-email\?token=[\w%-]+/.exec(text)?.[0] });
            callback();
          },
          (err) => callback(err),
        );
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): CapturedMail[] {
    return this.mails.filter((m) => m.to.toLowerCase() === address.toLowerCase());
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
