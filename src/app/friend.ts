// The friend's side once the code is confirmed: the SSH server on the verified stream, the shared
// pty and the session. Resolves with how it ended; the pty and every process it started are gone
// by then.
import type { ServerChannel } from 'ssh2';
import type { Cleanup } from '../cleanup';
import type { EventLog } from '../events';
import { GOODBYE } from '../net/goodbye';
import type { Verified } from '../net/rendezvous';
import { serveFriend } from '../net/ssh-friend';
import { startFriendSession, type EndReason, type FriendSession } from '../session/friend-session';
import { spawnShell } from '../session/pty';
import { sharedSize } from '../session/size';
import { AGAIN, type Outcome } from './outcome';
import type { Terminal } from './terminal';

export interface FriendRun {
  ended: Promise<Outcome>;
  stop(reason: EndReason): void;
}

const OUTCOMES: Record<EndReason, Outcome> = {
  hotkey: { exit: 'hotkey', message: 'You ended the session. Your helper has been disconnected.', next: AGAIN },
  'shell-exited': { exit: 'ok', message: 'The shared shell ended.', next: AGAIN },
  'helper-left': { exit: 'ok', message: 'Your helper left the session.', next: AGAIN },
  'connection-lost': { exit: 'lost', message: 'The connection to your helper was lost.', next: 'Check the network, then ' + AGAIN.toLowerCase() },
  signal: { exit: 'signal', message: 'remote-help was stopped. The session is over.', next: AGAIN },
  error: { exit: 'internal', message: 'remote-help ran into a problem and ended the session.', next: AGAIN },
};

/** The shell must be asked for soon after the code is confirmed. */
const SHELL_WAIT_MS = 30_000;

export function runFriendSession(o: {
  verified: Verified;
  hostKey: string;
  terminal: Terminal;
  events: EventLog;
  cleanup: Cleanup;
  onStarted(): void;
}): FriendRun {
  let session: FriendSession | null = null;
  let channel: ServerChannel | null = null;
  let resolve!: (v: Outcome) => void;
  const ended = new Promise<Outcome>((r) => (resolve = r));
  const helperName = `${o.verified.peer.user}@${o.verified.peer.host}`;
  let done = false;

  const waitTimer = setTimeout(() => finish('connection-lost', 'the helper did not start the shell in time'), SHELL_WAIT_MS);
  const server = serveFriend(o.verified.stream, o.hostKey, o.verified.peer.publicKey, {
    onRefused(what, detail) {
      o.events.emit('request-refused', detail);
      const text = `Your helper tried to ${what}. remote-help refused it.`;
      if (session) session.announce(text);
      else o.terminal.output.write(`[remote-help] ${text}\n`);
    },
    onShell(ch, helperSize, _term) {
      clearTimeout(waitTimer);
      channel = ch;
      const pty = spawnShell(sharedSize(o.terminal.size(), helperSize), o.terminal.term);
      o.cleanup.add('shared shell', () => pty.kill());
      o.onStarted();
      o.terminal.raw(o.cleanup);
      // Logged once the keyboard is raw: from here on Ctrl-Alt-C reaches the scanner, not the
      // terminal's own Ctrl-C handling.
      o.events.emit('session-started', { helper: helperName, pid: pty.pid });
      session = startFriendSession({
        pty,
        friend: o.terminal,
        helper: ch,
        helperSize,
        onEnd: (reason, detail) => finish(reason, detail),
        onResize: (size) => o.events.emit('resized', { ...size }),
      });
      o.terminal.onResize(() => session?.friendResized());
    },
    onResize(size) {
      session?.helperResized(size);
    },
    onClose(error) {
      if (session) session.end(error ? 'connection-lost' : 'helper-left', error ?? '');
      else finish('connection-lost', error ?? 'the connection closed before the shell started');
    },
  });
  o.cleanup.add('ssh server', () => server.close());

  function finish(reason: EndReason, detail: string) {
    if (done) return;
    done = true;
    clearTimeout(waitTimer);
    o.events.emit('session-ended', { reason, detail });
    const goodbye = reason === 'hotkey' ? GOODBYE.hotkey : reason === 'signal' ? GOODBYE.signal : reason === 'error' ? GOODBYE.error : null;
    const ch = channel;
    if (ch && !ch.destroyed) {
      try {
        if (goodbye) ch.exit('TERM', false, goodbye);
        else ch.exit(0);
        ch.end();
      } catch {
        // the helper is already gone
      }
    }
    // Give the goodbye a moment to leave; the pty is already dead and nothing waits on the helper.
    const stream = o.verified.stream;
    const t = setTimeout(() => {
      server.close();
      resolve(OUTCOMES[reason]);
    }, 50);
    stream.once('close', () => {
      clearTimeout(t);
      resolve(OUTCOMES[reason]);
    });
  }

  return {
    ended,
    stop(reason) {
      if (session) session.end(reason);
      else finish(reason, '');
    },
  };
}
