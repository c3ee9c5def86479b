// A real SMTP server on loopback (Nodemailer's smtp-server) that keeps what it receives, so a
// browser test can open the link a mail carries.
import { SMTPServer } from 'smtp-server';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Soft line breaks joined and =XX escapes decoded (quoted-printable, RFC 2045 §6.7).
function decodeQuotedPrintable(raw) {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

export async function startMailbox() {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => { raw += chunk; });
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), text: decodeQuotedPrintable(raw) });
        callback();
      });
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    /** The first link to `to` that contains `marker` (e.g. '#reset-password='), waiting for it. */
    async link(to, marker, { timeout = 15_000 } = {}) {
      const deadline = Date.now() + timeout;
      const pattern = new RegExp(`https?://[^\\s"<>]*${marker}[A-Za-z0-9_-]+`);
      while (Date.now() < deadline) {
        for (const message of messages) {
          if (!message.to.includes(to)) continue;
          const found = pattern.exec(message.text);
          if (found) return found[0];
        }
        await sleep(100);
      }
      throw new Error(`no ${marker} link reached ${to} within ${timeout} ms`);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
