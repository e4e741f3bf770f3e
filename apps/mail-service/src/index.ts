export { sendEmailConfirmation, type ConfirmationMailDeps } from './mail/send-email-confirmation.js';
export { createTransport, type MailTransport } from './mail/transport.js';
export { createMailService, type MailServiceDeps } from './mail-service.js';
