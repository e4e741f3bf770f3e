const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The confirmation email: plain text and HTML, one link. */
export function confirmationEmail(link: string, expiresAt: Date) {
  const hours = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 3_600_000));
  return {
    subject: 'Confirm your email address',
    text: `Welcome!\n\nConfirm your email address by opening this link:\n\n${link}\n\nThe link works once and expires in ${hours} hours. If you did not sign up, ignore this email.\n`,
    html: `<p>Welcome!</p><p>Confirm your email address:</p><p><a href="${escapeHtml(link)}">Confirm my email address</a></p><p>The link works once and expires in ${hours} hours. If you did not sign up, ignore this email.</p>`,
  };
}

/** An address as a notice shows it: enough for its owner to recognise, not to read off. */
const maskAddress = (email: string) => email.replace(/^(.).*(@.*)$/, '$1…$2');

/** Told to the old address when the account's email changes, so a hijack does not go unnoticed. */
export function emailChangedNotice(newEmail: string) {
  const masked = maskAddress(newEmail);
  return {
    subject: 'Your email address was changed',
    text: `The email address of your account was changed to ${masked}.\n\nIf you did not do this, contact support at once.\n`,
    html: `<p>The email address of your account was changed to ${escapeHtml(masked)}.</p><p>If you did not do this, contact support at once.</p>`,
  };
}

/** The password reset email: one link, single-use, short-lived. */
export function passwordResetEmail(link: string, expiresAt: Date) {
  const minutes = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 60_000));
  return {
    subject: 'Reset your password',
    text: `Someone asked to reset the password of your account.\n\nChoose a new password by opening this link:\n\n${link}\n\nThe link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this email: your password stays as it is.\n`,
    html: `<p>Someone asked to reset the password of your account.</p><p><a href="${escapeHtml(link)}">Choose a new password</a></p><p>The link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this email: your password stays as it is.</p>`,
  };
}

/** Sent after a reset: every session was ended; the owner learns of a reset they did not make. */
export function passwordResetNotice() {
  return {
    subject: 'Your password was reset',
    text: 'The password of your account was just reset through a link sent to this address, and every session was signed out.\n\nIf you did not do this, reset your password again at once and contact support.\n',
    html: '<p>The password of your account was just reset through a link sent to this address, and every session was signed out.</p><p>If you did not do this, reset your password again at once and contact support.</p>',
  };
}

/** To the new address of a requested change: the link that makes it the account's address. */
export function emailChangeConfirmation(link: string, expiresAt: Date) {
  const hours = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 3_600_000));
  return {
    subject: 'Confirm your new email address',
    text: `Someone asked to use this address for their account.\n\nIf it was you, confirm it by opening this link:\n\n${link}\n\nThe link works once and expires in ${hours} hours. Until then the account keeps its old address. If it was not you, ignore this email.\n`,
    html: `<p>Someone asked to use this address for their account.</p><p>If it was you: <a href="${escapeHtml(link)}">Confirm my new email address</a></p><p>The link works once and expires in ${hours} hours. Until then the account keeps its old address. If it was not you, ignore this email.</p>`,
  };
}

/** To the current address of a requested change: what was asked, and the link that undoes it. */
export function emailChangeRequestedNotice(newEmail: string, cancelLink: string, cancelExpiresAt: Date) {
  const masked = maskAddress(newEmail);
  const days = Math.max(1, Math.round((cancelExpiresAt.getTime() - Date.now()) / 86_400_000));
  return {
    subject: 'Your email address is about to change',
    text: `Someone signed in to your account asked to change its email address to ${masked}.\n\nIf this was not you, open this link: it cancels the change (or takes your address back if the change was made), signs out every session and stops any password reset in progress:\n\n${cancelLink}\n\nThe link works for ${days} days. Then reset your password.\n`,
    html: `<p>Someone signed in to your account asked to change its email address to ${escapeHtml(masked)}.</p><p>If this was not you: <a href="${escapeHtml(cancelLink)}">Cancel the change and sign out everywhere</a>. It takes your address back if the change was made, and stops any password reset in progress.</p><p>The link works for ${days} days. Then reset your password.</p>`,
  };
}

/** To an address another account asked to move to while it already has an account here. */
export function addressInUseNotice() {
  return {
    subject: 'This email address already has an account',
    text: 'Someone asked to use this address for an account, but it already belongs to an account here, so nothing changed.\n\nIf it was you, sign in with this address instead. If it was not you, ignore this email.\n',
    html: '<p>Someone asked to use this address for an account, but it already belongs to an account here, so nothing changed.</p><p>If it was you, sign in with this address instead. If it was not you, ignore this email.</p>',
  };
}
