import type { MailTransport } from './transport.js';
import { passwordResetEmail, passwordResetNotice } from './templates.js';

export interface PasswordResetMailDeps {
  transport: MailTransport;
  from: string;
  /** Base of the link, e.g. `https://app.example.com`: the page there posts the token and the new password to `POST /password/reset`. */
  publicUrl: string;
}

/** The reset link for one request (the token was just issued by users-service and is in no log). */
export async function sendPasswordReset(deps: PasswordResetMailDeps, email: string, token: string, expiresAt: Date): Promise<void> {
  const link = `${deps.publicUrl}/password/reset?token=${encodeURIComponent(token)}`;
  await deps.transport.sendMail({ from: deps.from, to: email, ...passwordResetEmail(link, expiresAt) });
}

/** Tell the address its password was reset, so a reset by someone else does not go unnoticed. */
export async function sendPasswordResetNotice(deps: PasswordResetMailDeps, email: string): Promise<void> {
  await deps.transport.sendMail({ from: deps.from, to: email, ...passwordResetNotice() });
}
