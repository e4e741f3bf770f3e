import type { MailTransport } from './transport.js';
import { addressInUseNotice, emailChangeConfirmation, emailChangeRequestedNotice } from './templates.js';

export interface EmailChangeMailDeps {
  transport: MailTransport;
  from: string;
  /** Base of the links, e.g. `https://api.example.com`. */
  publicUrl: string;
}

/** The link that makes the change, to the new address (the token was just issued and is in no log). */
export async function sendEmailChangeConfirmation(deps: EmailChangeMailDeps, newEmail: string, token: string, expiresAt: Date): Promise<void> {
  const link = `${deps.publicUrl}/email-change/confirm?token=${encodeURIComponent(token)}`;
  await deps.transport.sendMail({ from: deps.from, to: newEmail, ...emailChangeConfirmation(link, expiresAt) });
}

/** The notice with the link that cancels the change, to the address the account has now. */
export async function sendEmailChangeRequested(deps: EmailChangeMailDeps, oldEmail: string, newEmail: string, cancelToken: string, cancelExpiresAt: Date): Promise<void> {
  const link = `${deps.publicUrl}/email-change/cancel?token=${encodeURIComponent(cancelToken)}`;
  await deps.transport.sendMail({ from: deps.from, to: oldEmail, ...emailChangeRequestedNotice(newEmail, link, cancelExpiresAt) });
}

/** An address that already has an account was asked for by another: its owner learns nothing changed. */
export async function sendAddressInUse(deps: EmailChangeMailDeps, email: string): Promise<void> {
  await deps.transport.sendMail({ from: deps.from, to: email, ...addressInUseNotice() });
}
