// The friend's side once the code is confirmed: wiring only. The link supervisor brings links
// (the verified one first, then any that come back); each gets the SSH server (ssh-friend.ts),
// whose shell goes to the shared session (friend-session.ts). At the end, the helper's link hears
// why (goodbye.ts) before it closes, and the person reads what happened.
import * as os from 'node:os';
import { AGAIN, HelpError, type Ending } from '../errors';
import type { EventLog, EventName } from '../events';
import { GOODBYE } from '../net/goodbye';
import type { Conn, LinkSupervisor } from '../net/link';
import { newResumeSecret } from '../net/returning';
import type { Info } from '../net/messages';
import { serveFriend, type FriendServer } from '../net/ssh-friend';
import type { ServerChannel } from 'ssh2';
import { startFriendSession, type EndReason, type HelperLink } from '../session/friend-session';
import { paintedFriendConsole } from '../session/friend-console';
import { friendLines } from '../session/friend-lines';
import { changedSince, describeLeftovers, jobPlaces, taggedProcesses } from '../session/leftovers';
import { spawnShell } from '../session/pty';
import type { DesktopFound } from '../session/desktop';
import { friendDesktop } from './friend-desktop';
import { helperId } from './who';
import { TURNED_OFF, type Policy } from '../policy';
import { openTranscript, type Transcript } from '../session/transcript';
import type { Teardown } from '../teardown';
import type { Terminal } from './terminal';

export interface FriendRun {
  ended: Promise<Ending>;
  stop(reason: 'signal' | 'error'): void;
}

const ENDINGS: Record<EndReason, Ending> = {
  hotkey: { exit: 'hotkey', message: 'You ended the session. Your helper has been disconnected.', next: AGAIN },
  'shell-exited': { exit: 'ok', message: 'The shared shell ended.', next: AGAIN },
  'helper-left': { exit: 'ok', message: 'Your helper left the session.', next: AGAIN },
  'connection-lost': { exit: 'lost', message: 'The connection to your helper was lost.', next: 'Check the network, then ' + AGAIN.toLowerCase() },
  signal: { exit: 'signal', message: 'remote-help was stopped. The session is over.', next: AGAIN },
  'time-limit': { exit: 'policy', message: 'The session reached the longest time this computer\'s administrator allows, so remote-help ended it.', next: AGAIN },
  error: { exit: 'internal', message: 'remote-help ran into a problem and ended the session.', next: AGAIN },
};

/** The shell must be asked for soon after the code is confirmed... */
const SHELL_WAIT_MS = 30_000;
/** ...and sooner on a connection that comes back. */
const RESUME_SHELL_WAIT_MS = 10_000;

/** How long after the kill the end looks for what got away. */
const LEFTOVER_CHECK_MS = 150;
/** At most one refused request is told to the friend in this long. */
const REFUSED_EVERY_MS = 1000;

/** One link's SSH server and, once open, its shell channel. */
interface Served {
  server: FriendServer;
  shell: ServerChannel | null;
}

export function runFriendSession(o: {
  sup: LinkSupervisor;
  first: Conn;
  peer: Info;
  /** Names this session when a link comes back (returning.ts). */
  token: string;
  hostKey: string;
  terminal: Terminal;
  events: EventLog;
  teardown: Teardown;
  helperMayType: boolean;
  /** The friend chose to share the screen too (step 5 or 6, --desktop), and what there is to share. */
  shareDesktop: boolean;
  desktop: DesktopFound;
  /** What this computer's administrator allows: helpers only watching, the longest session. */
  policy: Policy;
  reconnectWindowMs: number;
  /** The session as lines (--plain, a screen reader) rather than painted. */
  lines: boolean;
  onStarted(): void;
}): FriendRun {
  const helperName = `${o.peer.user}@${o.peer.host}`;
  /** Who helped, for the transcript and the system log: the identity's fingerprint and its name. */
  const identity = o.peer.identity ? { identity: helperId(o.peer), name: o.peer.identity.name } : { identity: null };
  const whoHelped = o.peer.identity ? `${helperName}, "${o.peer.identity.name}" (identity ${identity.identity})` : `${helperName} (no identity)`;
  const resumeSecret = newResumeSecret();
  const served = new Map<number, Served>();
  let transcript: Transcript | null = null;
  let startedAt: number | null = null;
  let transcriptNote = '';
  let resolve!: (v: Ending) => void;
  const ended = new Promise<Ending>((r) => (resolve = r));

  const desktop = friendDesktop({ found: o.desktop, want: o.shareDesktop, helperName, helperMayType: o.helperMayType, events: o.events,
    teardown: o.teardown, mark: (text) => transcript?.marker(text), say: (text) => session.announce(text), tell: (m) => session.tell(m), end: () => session.hotkey() });
  const session = startFriendSession({
    friend: o.terminal,
    console: o.lines ? friendLines : paintedFriendConsole,
    helperName,
    helperMayType: o.helperMayType,
    greeting: () => [{ t: 'resume', secret: resumeSecret.toString('hex') }, ...desktop.greeting()],
    onKeyboard: (allowed) => desktop.keyboard(allowed),
    keyboardLocked: o.policy.helperMayType === 'no' ? `Helpers can only watch on this computer: typing is ${TURNED_OFF}.` : undefined,
    filesRefused: o.policy.fileTransfer ? undefined : `Copying files is ${TURNED_OFF}.`,
    rules: { windowMs: o.reconnectWindowMs, firstShellMs: SHELL_WAIT_MS },
    start(size, term) {
      startedAt = Date.now();
      const pty = spawnShell(size, o.terminal.term);
      o.teardown.add('shared shell', () => pty.kill(), { first: true });
      const t = openTranscript({ size, term: term ?? o.terminal.term, title: `remote-help session with ${whoHelped}` });
      if ('path' in t) {
        transcript = t;
        o.teardown.add('transcript', () => t.close('error'));
        o.events.emit('transcript', { path: t.path });
      } else {
        transcriptNote = `No transcript was kept (${t.error}).`;
        o.events.emit('transcript', { error: t.error });
      }
      o.onStarted();
      o.terminal.raw(o.teardown);
      // Logged once the keyboard is raw: from here on Ctrl-Alt-C reaches the scanner, not the
      // terminal's own Ctrl-C handling.
      o.events.emit('session-started', { helper: helperName, ...identity, pid: pty.pid, pty: pty.via, view: o.lines ? 'lines' : 'screen' });
      o.terminal.onResize(() => session.friendResized());
      desktop.start();
      if (o.policy.maxSessionMs !== null) {
        const limit = setTimeout(() => session.stop('time-limit'), o.policy.maxSessionMs);
        o.teardown.add('session time limit', () => clearTimeout(limit));
      }
      return { pty, record: transcript };
    },
    seek: (until) => o.sup.seek(until),
    stopSeeking: () => o.sup.stopSeeking(),
    drop: (id) => served.get(id)?.server.close(),
    onEnd: finish,
    onEvent: (name, detail) => o.events.emit(name as EventName, detail),
  });
  // Before the links close (the teardown's `first` steps run before the rest): a session still
  // running then ends as after an unexpected error, its goodbye on the helper's link.
  o.teardown.add('session', () => session.stop('error'), { first: true });

  /** Tells the friend of a refused request (the events log has every one): at most one line a
   * second, the rest counted in one line after it, so a helper cannot flood the friend's screen
   * or transcript with them. */
  let lastRefused = -Infinity;
  let unsaid = 0;
  let sayLater: NodeJS.Timeout | null = null;
  const tell = (line: string) => {
    lastRefused = Date.now();
    if (session.state.kind === 'waiting') o.terminal.output.write(`[remote-help] ${line}\n`);
    else session.announce(line);
  };
  function refused(text: string) {
    if (Date.now() - lastRefused >= REFUSED_EVERY_MS) return tell(text);
    unsaid++;
    sayLater ??= setTimeout(() => {
      sayLater = null;
      tell(`remote-help refused ${unsaid} more request${unsaid === 1 ? '' : 's'} from your helper.`);
      unsaid = 0;
    }, REFUSED_EVERY_MS - (Date.now() - lastRefused));
  }
  o.teardown.add('refused-request notices', () => void (sayLater && clearTimeout(sayLater)));

  /** Runs the SSH server on one link; resolves with its channels once the helper opens the
   * shell, rejects when the link ends (or, coming back, takes too long) before that. */
  function serve(conn: Conn, waitMs: number | null, signal?: AbortSignal): Promise<HelperLink> {
    return new Promise((resolveShell, reject) => {
      let control: ServerChannel | null = null;
      let open = false;
      const giveUp = (why: string) => {
        if (timer) clearTimeout(timer);
        if (!open) reject(new HelpError('lost', why));
      };
      const timer = waitMs ? setTimeout(() => (giveUp('did not start its shell in time'), server.close()), waitMs) : null;
      signal?.addEventListener('abort', () => (giveUp('no longer wanted'), open || server.close()));
      const server = serveFriend(conn.stream, o.hostKey, o.peer.publicKey, {
        onRefused(what, detail) {
          o.events.emit('request-refused', detail);
          refused(`Your helper tried to ${what}. remote-help refused it.`);
        },
        onShell(channel, size, term) {
          open = true;
          if (timer) clearTimeout(timer);
          link.shell = channel;
          resolveShell({ channel, control, size, term });
        },
        onControl(channel) {
          if (open) session.control(conn.id, channel);
          else control = channel;
        },
        onResize: (size) => session.helperResized(conn.id, size),
        desktopPort: () => desktop.port(),
        onClose(error) {
          release();
          served.delete(conn.id);
          giveUp(error ?? 'the connection closed before the shell started');
          // The link supervisor reports the link down, with this as the reason.
          conn.stream.destroy(error ? new Error(error) : undefined);
        },
      });
      const link: Served = { server, shell: null };
      served.set(conn.id, link);
      const release = o.teardown.add(`ssh server (link ${conn.id})`, () => server.end(false));
    });
  }

  serve(o.first, null).then((link) => session.shell(o.first.id, link), () => {});
  o.sup.hold({
    link: o.first,
    token: o.token,
    secret: () => resumeSecret,
    greet: (conn, signal) => serve(conn, RESUME_SHELL_WAIT_MS, signal),
    up: (conn, link) => {
      session.shell(conn.id, link);
      o.events.emit('relinked', {});
    },
    down: (conn, error) => session.linkDown(conn.id, error),
  });

  function finish(reason: EndReason, detail: string, link: number | null) {
    o.events.emit('session-ended', { reason, detail, message: ENDINGS[reason].message });
    const unshared = desktop.stop(); // marked in the transcript before it closes
    transcript?.close(reason);
    const goodbye = reason === 'hotkey' || reason === 'signal' || reason === 'error' || reason === 'time-limit' ? GOODBYE[reason] : null;
    const s = link === null ? undefined : served.get(link);
    if (s?.shell && !s.shell.destroyed) {
      try {
        if (goodbye) s.shell.exit('TERM', false, goodbye);
        else s.shell.exit(0);
        s.shell.end();
      } catch {
        // the helper is already gone
      }
    }
    // The helper's link closes once the helper has read this, unless the helper said goodbye
    // first (the teardown waits for it). The pty and its processes are already gone, so the
    // person reads the outcome now.
    for (const [id, l] of served) void l.server.end(id === link && reason !== 'helper-left');
    // /run is memory: on a read-only disk that is where the record went, and a reboot loses it.
    const volatile = transcript?.path.startsWith('/run/') ? ' It is kept in memory only and will be gone after a reboot.' : '';
    const where = transcript ? `A record of the session is in ${transcript.path} (remote-help replay shows it).${volatile}` : transcriptNote;
    const base = ENDINGS[reason];
    // What got away from the kill, if anything, once the kill has had a moment to land.
    const left = () => (startedAt === null ? '' : describeLeftovers(taggedProcesses(), changedSince(startedAt, jobPlaces(os.homedir()))));
    setTimeout(() => {
      const extra = left();
      if (extra) o.events.emit('leftovers', { text: extra });
      resolve({ ...base, message: [base.message, unshared, extra, where].filter(Boolean).join(' ') });
    }, LEFTOVER_CHECK_MS);
  }

  return { ended, stop: (reason) => session.stop(reason) };
}
