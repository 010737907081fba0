// The helper's side once the code is confirmed: the SSH client on the verified stream and the
// helper's terminal attached to the friend's shared shell.
import type { Cleanup } from '../cleanup';
import type { EventLog } from '../events';
import { goodbyeKind } from '../net/goodbye';
import type { Verified } from '../net/rendezvous';
import { connectHelper } from '../net/ssh-helper';
import { startHelperSession, type HelperEnd } from '../session/helper-session';
import { AGAIN, type Outcome } from './outcome';
import type { Terminal } from './terminal';

export function describeHelperEnd(end: HelperEnd): Outcome {
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
  cleanup: Cleanup;
  onStarted(): void;
}): Promise<{ ended: Promise<Outcome>; stop(): void }> {
  const size = o.terminal.size();
  const conn = await connectHelper(o.verified.stream, {
    privateKey: o.privateKey,
    friendKey: o.verified.peer.publicKey,
    user: o.verified.peer.user,
    term: o.terminal.term,
    cols: size.cols,
    rows: size.rows,
    readyTimeoutMs: 30_000,
  });
  o.cleanup.add('ssh client', () => conn.close());
  o.events.emit('ssh-ready', {});
  o.onStarted();
  o.terminal.raw(o.cleanup);
  o.events.emit('session-started', { friend: `${o.verified.peer.user}@${o.verified.peer.host}` });
  let resolve!: (v: Outcome) => void;
  const ended = new Promise<Outcome>((r) => (resolve = r));
  const s = startHelperSession({
    channel: conn.channel,
    input: o.terminal.input,
    output: o.terminal.output,
    onEnd: (end) => {
      const outcome = describeHelperEnd(end);
      o.events.emit('session-ended', { reason: end.kind === 'exit' ? (goodbyeKind(end.message ?? undefined) ?? 'shell-exited') : end.kind });
      conn.close();
      resolve(outcome);
    },
  });
  o.terminal.onResize(() => {
    const next = o.terminal.size();
    conn.resize(next.cols, next.rows);
  });
  return { ended, stop: () => s.end() };
}
