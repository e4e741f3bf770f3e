export { sendEmailConfirmation, configureConfirmationMail, type ConfirmationMailDeps } from './mail/send-email-confirmation.js';
export { createTransport } from './mail/transport.js';
