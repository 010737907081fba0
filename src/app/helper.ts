// The helper's side once the code is confirmed: the SSH client on the verified stream and the
// helper's terminal attached to the friend's shared shell. When the link drops without a word from
// the friend, the helper's program gets a new connection to the same friend (relink: same address
// or port, same pinned keys, no new code) for up to the reconnect window.
import type { Teardown } from '../teardown';
import { formatDuration } from '../duration';
import { AGAIN, HelpError, type Ending } from '../errors';
import type { EventLog } from '../events';
import { goodbyeKind } from '../net/goodbye';
import { type Verified } from '../net/rendezvous';
import { connectHelper, type HelperConnection } from '../net/ssh-helper';
import { startHelperSession, type HelperEnd } from '../session/helper-session';
import type { Relink } from './friend';

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
    default:
      return { exit: 'ok', message: 'The shell on your friend\'s computer ended.', next: AGAIN };
  }
}

export async function runHelperSession(o: {
  verified: Verified;
  privateKey: string;
  terminal: Terminal;
  events: EventLog;
  teardown: Teardown;
  reconnectWindowMs: number;
  relink: Relink;
  onStarted(): void;
}): Promise<{ ended: Promise<Ending>; stop(): void }> {
  // A connection that comes back gets less time: while it is tried, no other is taken.
  const connect = (stream: Verified['stream'], readyTimeoutMs = 30_000) => {
    const size = o.terminal.size();
    return connectHelper(stream, {
      privateKey: o.privateKey,
      friendKey: o.verified.peer.publicKey,
      user: o.verified.peer.user,
      term: o.terminal.term,
      cols: size.cols,
      rows: size.rows,
      readyTimeoutMs,
    });
  };
  // Raw mode now, while SSH starts: a line left half-typed at the code prompt becomes readable
  // the moment the terminal goes raw, and is read and dropped here, never sent to the shell.
  o.terminal.raw(o.teardown);
  const discard = () => {};
  o.terminal.input.on('data', discard);
  o.terminal.input.resume();
  let conn: HelperConnection;
  try {
    conn = await connect(o.verified.stream);
  } finally {
    o.terminal.input.off('data', discard);
  }
  o.teardown.add('ssh client', () => conn.close());
  o.events.emit('ssh-ready', {});
  o.onStarted();
  o.events.emit('session-started', { friend: `${o.verified.peer.user}@${o.verified.peer.host}` });
  let resolve!: (v: Ending) => void;
  const ended = new Promise<Ending>((r) => (resolve = r));
  const relinking = new AbortController();
  let done = false;
  const s = startHelperSession({
    input: o.terminal.input,
    output: o.terminal.output,
    onEnd: (end) => {
      done = true;
      relinking.abort();
      const outcome = describeHelperEnd(end);
      o.events.emit('session-ended', { reason: end.kind === 'exit' ? (goodbyeKind(end.message ?? undefined) ?? 'shell-exited') : end.kind });
      // A moment for the goodbye (EOF and the control line) to leave before the connection closes.
      setTimeout(() => {
        conn.close();
        resolve(outcome);
      }, end.kind === 'left' ? 50 : 0);
    },
  });

  const watch = (c: HelperConnection) => {
    c.onClose((error) => {
      if (done || c !== conn) return;
      if (s.exitInfo) return s.end(s.exitInfo); // the friend ended it and said so
      s.detach();
      o.events.emit('helper-lost', { error });
      if (o.reconnectWindowMs <= 0) return s.end({ kind: 'closed' });
      void relinkLoop(error);
    });
  };

  async function relinkLoop(error: string | null) {
    const deadline = Date.now() + o.reconnectWindowMs;
    s.note(`The connection to your friend dropped${error ? ` (${error})` : ''}. Reconnecting for up to ${formatDuration(o.reconnectWindowMs)}. Ctrl-C gives up (do that if your friend ended the session).`);
    while (!done) {
      try {
        const stream = await o.relink(relinking.signal, deadline);
        const next = await connect(stream, 10_000);
        if (done) return next.close();
        conn = next;
        watch(next);
        s.attach({ channel: next.channel, control: next.control });
        o.events.emit('relinked', {});
        s.note('Reconnected. Your friend\'s screen follows.');
        return;
      } catch (err) {
        if (done) return;
        if (err instanceof HelpError && (err.exit === 'cancelled' || (err.exit === 'lost' && Date.now() >= deadline))) break;
        // A connection that was not our friend's program (a wrong key, garbage): keep trying.
        o.events.emit('rejected-connection', { reason: (err as Error).message });
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    if (!done) s.end({ kind: 'closed' });
  }

  s.attach({ channel: conn.channel, control: conn.control });
  watch(conn);
  o.terminal.onResize(() => {
    const next = o.terminal.size();
    conn.resize(next.cols, next.rows);
  });
  return { ended, stop: () => s.end() };
}
