// The friend's side of a meeting point's second form (meeting-word.ts): log in to the helper's
// server with the key the one-time word makes, and open one connection to the loopback port the
// helper's program listens on there. What runs over it is the usual handshake and end-to-end SSH,
// so the server's host key is not what is trusted: the spoken code is (a server that is not the
// helper's cannot make the codes match).
import { Client } from 'ssh2';
import { HelpError } from '../errors';
import { formatAddress } from './address';
import type { MeetingAddress, WordSecrets } from './meeting-word';
import type { Link } from './tcp';

/** One attempt, like tcp.ts's dial: network errors keep their code, so they are explained and
 * retried the same way; a refused word or a server that will not forward is said in plain words. */
export function dialMeeting(at: MeetingAddress, secrets: WordSecrets, timeoutMs: number): Promise<Link> {
  const where = formatAddress(at);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      reject(err);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication')
        return fail(new HelpError('connect', `The server ${where} did not accept the one-time word for ${at.user}.`,
          'Check the word and the name before the @ with your helper (the word is new each time they start), and type them again.'));
      fail(err);
    });
    client.on('ready', () => {
      client.forwardOut('127.0.0.1', 0, '127.0.0.1', secrets.port, (err, channel) => {
        if (err) {
          // Nobody listens on the port yet (or any more): the helper's program is not there.
          return fail(Object.assign(new HelpError('connect', `Your helper is not waiting at ${where} (yet).`,
            'Ask your helper to start remote-help with --via and read you the word it shows.'), { code: 'ECONNREFUSED' }));
        }
        if (settled) return void channel.close();
        settled = true;
        clearTimeout(timer);
        // A channel's destroy() only asks the server to close it, and its 'close' waits for the
        // answer, which never comes over a dead connection (a cable pulled): destroying the link
        // ends the login too, and that closes the channel at once.
        const destroyChannel = channel.destroy.bind(channel);
        channel.destroy = () => (destroyChannel(), client.destroy(), channel);
        channel.on('close', () => client.end());
        resolve({ stream: channel, remote: `${at.user}@${where}` });
      });
    });
    client.on('close', () => fail(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })));
    client.connect({
      host: at.host,
      port: at.port,
      username: at.user,
      privateKey: secrets.privateKey,
      // The end-to-end code, not the server's key, is what tells the friend who is on the other end.
      hostVerifier: () => true,
      readyTimeout: timeoutMs,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
    });
  });
}
