import type { EmailConfirmationIssued } from '@um/contracts';
import type { MailTransport } from './transport.js';
import { confirmationEmail, emailChangedNotice } from './templates.js';

export interface ConfirmationMailDeps {
  /** Ask users-service for a single-use token for this address. */
  issueToken: (email: string) => Promise<EmailConfirmationIssued>;
  transport: MailTransport;
  from: string;
  /** Base of the link, e.g. `https://api.example.com`. */
  publicUrl: string;
}

/**
 * Send the address a link that confirms it. Resolves once the SMTP server accepted the message
 * ('sent'), or at once when the address is already confirmed ('already_verified'). Rejects when the
 * account is gone (AppError not_found) or on any delivery failure, so the caller can retry.
 */
export async function sendEmailConfirmation(deps: ConfirmationMailDeps, email: string): Promise<'sent' | 'already_verified'> {
  const issued = await deps.issueToken(email);
  if (issued.status === 'already_verified') return 'already_verified';
  const link = `${deps.publicUrl}/confirm-email?token=${encodeURIComponent(issued.token)}`;
  const message = confirmationEmail(link, new Date(issued.expires_at));
  await deps.transport.sendMail({ from: deps.from, to: email, ...message });
  return 'sent';
}

/** Tell a former address that the account now uses another one. */
export async function sendEmailChangedNotice(deps: ConfirmationMailDeps, oldEmail: string, newEmail: string): Promise<void> {
  await deps.transport.sendMail({ from: deps.from, to: oldEmail, ...emailChangedNotice(newEmail) });
}
