// The helper's side once the code is confirmed: wiring only. The SSH client (ssh-helper.ts) runs
// on the verified link, then on each link the supervisor brings back; the helper's terminal is
// attached to the friend's shell through the helper's session (helper-session.ts). At the end the
// link closes once our last words are out (goodbye.ts).
import { AGAIN, type Ending } from '../errors';
import type { EventLog } from '../events';
import { goodbyeKind } from '../net/goodbye';
import type { Conn, LinkSupervisor } from '../net/link';
import type { Info } from '../net/messages';
import { connectHelper, type HelperConnection } from '../net/ssh-helper';
import { paintedHelperConsole } from '../session/helper-console';
import { helperLines } from '../session/helper-lines';
import { startHelperSession, type HelperEnd } from '../session/helper-session';
import type { Teardown } from '../teardown';
import { helperDesktop } from './viewer';
import type { Terminal } from './terminal';

export function describeHelperEnd(end: HelperEnd): Ending {
  if (end.kind === 'left') return { exit: 'ok', message: 'You left the session.', next: AGAIN };
  if (end.kind === 'closed')
    return { exit: 'lost', message: 'The connection to your friend was lost.', next: 'Call your friend, then start again.' };
  switch (goodbyeKind(end.message ?? undefined)) {
    case 'hotkey':
      return { exit: 'hotkey', message: 'The friend ended the session.', next: AGAIN };
    case 'signal':
      return { exit: 'lost', message: 'The friend\'s remote-help was stopped.', next: AGAIN };
    case 'error':
      return { exit: 'lost', message: 'The friend\'s remote-help ran into a problem.', next: AGAIN };
    case 'time-limit':
      return { exit: 'policy', message: 'The session reached the longest time the friend\'s computer allows (its administrator\'s policy).', next: AGAIN };
    default:
      return { exit: 'ok', message: 'The shell on your friend\'s computer ended.', next: AGAIN };
  }
}

/** The first shell must start this soon; a link that comes back gets less. */
const READY_MS = 30_000;
const RESUME_READY_MS = 10_000;

export async function runHelperSession(o: {
  sup: LinkSupervisor;
  first: Conn;
  peer: Info;
  /** Names this session when a link comes back (returning.ts). */
  token: string;
  privateKey: string;
  terminal: Terminal;
  events: EventLog;
  teardown: Teardown;
  reconnectWindowMs: number;
  /** The session as lines (--plain, a screen reader) rather than painted. */
  lines: boolean;
  onStarted(): void;
}): Promise<{ ended: Promise<Ending>; stop(why: 'signal' | 'error'): void }> {
  const clients = new Map<number, HelperConnection>();
  const view = o.lines ? helperLines : paintedHelperConsole;
  const connect = async (conn: Conn, readyTimeoutMs: number) => {
    const size = view.area(o.terminal.size()); // painted: the last row is the helper's status line
    const c = await connectHelper(conn.stream, {
      privateKey: o.privateKey,
      friendKey: o.peer.publicKey,
      user: o.peer.user,
      term: o.terminal.term,
      cols: size.cols,
      rows: size.rows,
      readyTimeoutMs,
    });
    clients.set(conn.id, c);
    const release = o.teardown.add(`ssh client (link ${conn.id})`, () => c.end(false));
    c.onClose((error) => {
      release();
      clients.delete(conn.id);
      conn.stream.destroy(error ? new Error(error) : undefined); // the supervisor reports it down
    });
    return c;
  };
  // Raw mode now, while SSH starts: a line left half-typed at the code prompt becomes readable
  // the moment the terminal goes raw, and is read and dropped here, never sent to the shell.
  o.terminal.raw(o.teardown);
  const discard = () => {};
  o.terminal.input.on('data', discard);
  o.terminal.input.resume();
  let first: HelperConnection;
  try {
    first = await connect(o.first, READY_MS);
  } finally {
    o.terminal.input.off('data', discard);
  }
  o.events.emit('ssh-ready', {});
  o.onStarted();
  o.events.emit('session-started', { friend: `${o.peer.user}@${o.peer.host}`, view: o.lines ? 'lines' : 'screen' });
  let resolve!: (v: Ending) => void;
  const ended = new Promise<Ending>((r) => (resolve = r));
  let live = o.first.id;
  const desktop = helperDesktop({ forward: (port) => clients.get(live)?.forward(port) ?? null, say: (text) => session.say(text), events: o.events, teardown: o.teardown });
  let resumeSecret: Buffer | null = null;
  const session = startHelperSession({
    input: o.terminal.input,
    terminal: o.terminal,
    console: view,
    friendName: `${o.peer.user}@${o.peer.host}`,
    rules: { windowMs: o.reconnectWindowMs },
    first: { link: o.first.id, conn: first },
    seek: (until) => o.sup.seek(until),
    stopSeeking: () => o.sup.stopSeeking(),
    drop: (id) => clients.get(id)?.close(),
    onResumeSecret: (secret) => (resumeSecret = secret),
    onDesktop: (msg) => desktop.update(msg),
    onCopy: (detail) => o.events.emit('file-copy', detail),
    onEnd(end, link) {
      desktop.stop();
      const ending = describeHelperEnd(end);
      o.events.emit('session-ended', { reason: end.kind === 'exit' ? (goodbyeKind(end.message ?? undefined) ?? 'shell-exited') : end.kind, message: ending.message });
      // Leaving, our goodbye (EOF and the control line) is the last word: the friend's side closes
      // first. After the friend's goodbye we close at once. The teardown waits for either.
      if (link !== null) void clients.get(link)?.end(end.kind === 'left');
      resolve(ending);
    },
  });
  o.teardown.add('session', () => session.stop('error'), { first: true });
  o.sup.hold({
    link: o.first,
    token: o.token,
    secret: () => resumeSecret,
    greet: (conn) => connect(conn, RESUME_READY_MS),
    up: (conn, c) => {
      live = conn.id;
      session.up(conn.id, c);
      o.events.emit('relinked', {});
    },
    down: (conn, error) => {
      if (session.state.kind === 'live' && session.state.link === conn.id) o.events.emit('helper-lost', { error });
      session.down(conn.id, error);
    },
  });
  o.terminal.onResize(() => {
    const next = view.area(o.terminal.size());
    session.resized();
    clients.get(live)?.resize(next.cols, next.rows);
  });
  // A signal ends the helper's side like ~., but the exit status says it was a signal.
  let stoppedBy: 'signal' | 'error' | null = null;
  const said = ended.then((out): Ending => {
    if (stoppedBy === 'signal') return { ...out, exit: 'signal', message: 'remote-help was stopped. You left the session.' };
    if (stoppedBy === 'error') return { ...out, exit: 'internal', message: 'remote-help ran into a problem and left the session.' };
    return out;
  });
  return { ended: said, stop: (why) => ((stoppedBy = why), session.stop('signal')) };
}
