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

/** Told to the old address when the account's email changes, so a hijack does not go unnoticed. */
export function emailChangedNotice(newEmail: string) {
  const masked = newEmail.replace(/^(.).*(@.*)$/, '$1…$2');
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
