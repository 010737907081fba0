// The helper's SSH client (ssh2) on the already verified stream: it accepts only the friend's
// verified host key and logs in with the helper's verified key.
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { Client, type ClientChannel } from 'ssh2';
import { HelpError } from '../errors';
import { cleanText, CONTROL_SUBSYSTEM } from './control';
import { linger } from './goodbye';

export interface HelperClientOptions {
  privateKey: string;
  friendKey: Buffer;
  user: string;
  term: string;
  cols: number;
  rows: number;
  readyTimeoutMs: number;
}

export interface HelperConnection {
  channel: ClientChannel;
  /** The control channel (control.ts); null when the friend's side did not open one. */
  control: ClientChannel | null;
  resize(cols: number, rows: number): void;
  /** A channel to the friend's loopback `port` (the shared desktop: the only one allowed). */
  forward(port: number): Promise<Duplex>;
  /** Closes the connection now. */
  close(): void;
  /** Closes it without losing last words (goodbye.ts): `theyCloseFirst` when ours are the last. */
  end(theyCloseFirst: boolean): Promise<void>;
  onClose(cb: (error: string | null) => void): void;
}

export function connectHelper(stream: Duplex, o: HelperClientOptions): Promise<HelperConnection> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let lastError: string | null = null;
    const closeCbs: ((e: string | null) => void)[] = [];
    let settled = false;
    let wrongHostKey = false;
    let ending: Promise<void> | null = null;
    const failure = (message: string) =>
      wrongHostKey
        ? new HelpError('protocol', 'Your friend\'s computer answered with a different key than the one checked with the code.',
          'Someone may be in the middle: stop, and start again from the beginning.')
        : new HelpError('lost', `The session could not start (${message}).`, 'Start again; if it happens again, check the network.');
    client.on('error', (err) => {
      // The friend's side (or anyone on the path, before key exchange) chooses this text: it is
      // cleaned before it can reach a screen.
      lastError = cleanText(err.message, 160);
      if (!settled) {
        settled = true;
        reject(failure(lastError));
      }
    });
    client.on('close', () => {
      for (const cb of closeCbs) cb(lastError);
      if (!settled) {
        settled = true;
        reject(failure(lastError ?? 'the connection closed while starting the session'));
      }
    });
    client.on('ready', () => {
      // Both channels are opened at once, not one after the other: on a slow link each reply
      // waited for is a round trip (opening the control channel, starting its subsystem, opening
      // the shell's, its pty: four before, two now). The control channel's open is sent first,
      // and each channel's requests follow its confirmation, so the friend's side still sees the
      // control channel before the shell (it allows no session after the shell).
      let control: ClientChannel | null | undefined; // undefined: no answer yet
      let shell: { err: Error | undefined; channel: ClientChannel } | null = null;
      const both = () => {
        if (control === undefined || !shell || settled) return;
        settled = true;
        const { err, channel } = shell;
        if (err) {
          client.end();
          return reject(failure(cleanText(err.message, 160)));
        }
        resolve({
          channel,
          control,
          resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
          forward: (port) => new Promise((res, rej) => client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (e, ch) => (e ? rej(e) : res(ch)))),
          close: () => {
            client.end();
            stream.destroy();
          },
          end: (theyCloseFirst) => (ending ??= linger(stream, () => client.end(), theyCloseFirst)),
          onClose: (cb) => closeCbs.push(cb),
        });
      };
      client.subsys(CONTROL_SUBSYSTEM, (cerr, c) => {
        control = cerr ? null : c;
        both();
      });
      client.shell({ term: o.term, cols: o.cols, rows: o.rows }, (err, channel) => {
        shell = { err, channel };
        both();
      });
    });
    client.connect({
      sock: stream as never,
      username: o.user,
      privateKey: o.privateKey,
      // Straight to the verified key: ssh2 would first try "none", a round trip the friend's side
      // always refuses.
      authHandler: ['publickey'],
      readyTimeout: o.readyTimeoutMs,
      // A link that died without a word (a cable pulled) is noticed in about 15 s.
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      // Only the host key the friend's program sent in the verified handshake.
      hostVerifier: (key: Buffer) => {
        const ok = key.length === o.friendKey.length && timingSafeEqual(key, o.friendKey);
        wrongHostKey = !ok;
        return ok;
      },
    });
  });
}
