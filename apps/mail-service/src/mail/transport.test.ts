import { createLogger } from '@um/platform';
import { describe, expect, it } from 'vitest';
import { createTransport } from './transport.js';

function capturedLogger() {
  const raw: string[] = [];
  return { log: createLogger('mail-test', 'info', {}, { write: (l: string) => void raw.push(l) }), text: () => raw.join('') };
}

const message = { from: 'noreply@example.net', to: 'carol.person@example.org', subject: 'Confirm your email address', text: 'Hello carol.person@example.org' };

describe('createTransport', () => {
  it('without SMTP_URL writes the whole message, address included, to the log (the development mailbox)', async () => {
    const { log, text } = capturedLogger();
    await createTransport(undefined, log).sendMail(message);
    expect(text()).toContain('"to":"carol.person@example.org"');
    expect(text()).toContain('Hello carol.person@example.org');
  });

  it('with SMTP_URL never writes the message or the address to the log, even when sending fails', async () => {
    const { log, text } = capturedLogger();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    await expect(createTransport('smtp://127.0.0.1:9', log).sendMail(message)).rejects.toThrow();
    expect(text()).not.toContain('carol');
  });
});
