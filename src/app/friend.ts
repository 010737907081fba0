// The friend's side once the code is confirmed: the SSH server on the verified stream, the shared
// pty and the session; when the helper's link drops, the SSH server again on each connection that
// comes back (relink), attached to the same session. Resolves with how it ended; the pty and every
// process it started are gone by then.
import type { Duplex } from 'node:stream';
import type { Teardown } from '../teardown';
import { AGAIN, type Ending } from '../errors';
import type { EventLog } from '../events';
import { GOODBYE } from '../net/goodbye';
import type { Verified } from '../net/rendezvous';
import { serveFriend } from '../net/ssh-friend';
import { startFriendSession, type EndReason, type FriendSession, type HelperLink } from '../session/friend-session';
import { spawnShell } from '../session/pty';
import { sharedSize } from '../session/size';
import { openTranscript, type Transcript } from '../session/transcript';

import type { Terminal } from './terminal';

export interface FriendRun {
  ended: Promise<Ending>;
  stop(reason: EndReason): void;
}

/** Gets a new connection from the same helper (resume.ts), or throws when that is over. */
export type Relink = (signal: AbortSignal, deadline: number) => Promise<Duplex>;

const OUTCOMES: Record<EndReason, Ending> = {
  hotkey: { exit: 'hotkey', message: 'You ended the session. Your helper has been disconnected.', next: AGAIN },
  'shell-exited': { exit: 'ok', message: 'The shared shell ended.', next: AGAIN },
  'helper-left': { exit: 'ok', message: 'Your helper left the session.', next: AGAIN },
  'connection-lost': { exit: 'lost', message: 'The connection to your helper was lost.', next: 'Check the network, then ' + AGAIN.toLowerCase() },
  signal: { exit: 'signal', message: 'remote-help was stopped. The session is over.', next: AGAIN },
  error: { exit: 'internal', message: 'remote-help ran into a problem and ended the session.', next: AGAIN },
};

/** The shell must be asked for soon after the code is confirmed... */
const SHELL_WAIT_MS = 30_000;
/** ...and sooner on a connection that comes back: while one is tried, no other is taken. */
const RESUME_SHELL_WAIT_MS = 10_000;

export function runFriendSession(o: {
  verified: Verified;
  hostKey: string;
  terminal: Terminal;
  events: EventLog;
  teardown: Teardown;
  helperMayType: boolean;
  reconnectWindowMs: number;
  relink: Relink;
  onStarted(): void;
}): FriendRun {
  let session: FriendSession | null = null;
  let transcript: Transcript | null = null;
  let transcriptNote = '';
  let resolve!: (v: Ending) => void;
  const ended = new Promise<Ending>((r) => (resolve = r));
  const helperName = `${o.verified.peer.user}@${o.verified.peer.host}`;
  const relinking = new AbortController();
  let done = false;
  /** The SSH connection whose shell is the session's current link. */
  let current: Served | null = null;

  interface Served {
    close(): void;
    stream: Duplex;
    channel: import('ssh2').ServerChannel | null;
    /** The control channel, opened before the shell; handed to the session with the shell. */
    control: import('ssh2').ServerChannel | null;
  }

  function startSession(helperSize: HelperLink['size'], term: string | null) {
    const t0 = o.terminal.size();
    const size = sharedSize({ cols: t0.cols, rows: t0.rows - 1 }, helperSize); // less the status line
    const pty = spawnShell(size, o.terminal.term);
    o.teardown.add('shared shell', () => pty.kill());
    const t = openTranscript({ size, term: term ?? o.terminal.term, title: `remote-help session with ${helperName}` });
    if (!('path' in t)) {
      transcriptNote = `No transcript was kept (${t.error}).`;
      o.events.emit('transcript', { error: t.error });
    } else {
      transcript = t;
      o.events.emit('transcript', { path: t.path });
    }
    o.onStarted();
    o.terminal.raw(o.teardown);
    // Logged once the keyboard is raw: from here on Ctrl-Alt-C reaches the scanner, not the
    // terminal's own Ctrl-C handling.
    o.events.emit('session-started', { helper: helperName, pid: pty.pid });
    const s = startFriendSession({
      pty,
      friend: o.terminal,
      helperMayType: o.helperMayType,
      reconnectWindowMs: o.reconnectWindowMs,
      record: transcript,
      onEnd: (reason, detail) => finish(reason, detail),
      onEvent: (name, detail) => {
        o.events.emit(name as never, detail);
        if (name === 'helper-lost') void relinkLoop();
      },
    });
    o.terminal.onResize(() => s.friendResized());
    return s;
  }

  /** Runs the SSH server on one connection; resolves true once its shell is the session's link,
   * false when the connection ends (or gives up) before that. */
  function serve(stream: Duplex, first: boolean): Promise<boolean> {
    let settle!: (attached: boolean) => void;
    const settled = new Promise<boolean>((r) => (settle = r));
    const served: Served = { close: () => server.close(), stream, channel: null, control: null };
    const waitTimer = setTimeout(() => {
      settle(false);
      if (first) finish('connection-lost', 'the helper did not start the shell in time');
      else served.close();
    }, first ? SHELL_WAIT_MS : RESUME_SHELL_WAIT_MS);
    const server = serveFriend(stream, o.hostKey, o.verified.peer.publicKey, {
      onRefused(what, detail) {
        o.events.emit('request-refused', detail);
        const text = `Your helper tried to ${what}. remote-help refused it.`;
        if (session) session.announce(text);
        else o.terminal.output.write(`[remote-help] ${text}\n`);
      },
      onShell(ch, helperSize, term) {
        clearTimeout(waitTimer);
        if (done) return ch.destroy();
        served.channel = ch;
        if (!session) session = startSession(helperSize, term);
        const previous = current;
        current = served;
        if (previous && previous !== served) previous.close();
        session.attach({ name: helperName, channel: ch, size: helperSize });
        if (served.control) session.control(served.control);
        settle(true);
      },
      onControl(ch) {
        served.control = ch;
        if (session && current === served) session.control(ch);
      },
      onResize(size) {
        if (current === served) session?.helperResized(size);
      },
      onClose(error) {
        clearTimeout(waitTimer);
        settle(false);
        if (first && !session) return finish('connection-lost', error ?? 'the connection closed before the shell started');
        if (current === served) {
          current = null;
          session?.linkClosed(error);
        }
      },
    });
    o.teardown.add('ssh server', () => server.close());
    return settled;
  }

  let looping = false;
  async function relinkLoop() {
    if (looping) return;
    looping = true;
    // The window is the session's (its timer ends the session); this only stops looking then.
    const deadline = Date.now() + o.reconnectWindowMs;
    try {
      while (!done && session?.awaitingHelper) {
        const stream = await o.relink(relinking.signal, deadline);
        if (done) return stream.destroy();
        // This connection becomes the link, or it fails (not our helper, cut again) and we look
        // for the next one.
        if (await serve(stream, false)) {
          o.events.emit('relinked', {});
          return;
        }
      }
    } catch {
      // the window closed or the session ended: the session's own timer says so
    } finally {
      looping = false;
    }
  }

  serve(o.verified.stream, true);

  function finish(reason: EndReason, detail: string) {
    if (done) return;
    done = true;
    relinking.abort();
    o.events.emit('session-ended', { reason, detail });
    transcript?.close(reason);
    const goodbye = reason === 'hotkey' ? GOODBYE.hotkey : reason === 'signal' ? GOODBYE.signal : reason === 'error' ? GOODBYE.error : null;
    const ch = current?.channel;
    if (ch && !ch.destroyed) {
      try {
        if (goodbye) ch.exit('TERM', false, goodbye);
        else ch.exit(0);
        ch.end();
      } catch {
        // the helper is already gone
      }
    }
    const where = transcript ? `A record of the session is in ${transcript.path} (remote-help replay shows it).` : transcriptNote;
    const base = OUTCOMES[reason];
    const outcome: Ending = where ? { ...base, message: `${base.message} ${where}` } : base;
    // Give the goodbye a moment to leave; the pty is already dead and nothing waits on the helper.
    const link = current;
    if (!link) return resolve(outcome);
    const t = setTimeout(() => {
      link.close();
      resolve(outcome);
    }, 50);
    link.stream.once('close', () => {
      clearTimeout(t);
      resolve(outcome);
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
