// The live session on the friend's side as named states (pure), in the style of the handshake
// (src/net/handshake-machine.ts): step(state, event, rules) -> { state, effects }. The runner
// (friend-session.ts) feeds it what happens and carries out its effects; the reconnect window is
// owned here and nowhere else.
//
//   waiting ──shell──▶ live ──linkDown──▶ gone ──shell, in time──▶ live
//      │                │ ▲                 │
//      │                │ └─ shell on another link: it replaces this one
//      │                └── the helper's goodbye ──▶ ended(helper-left)
//      └── linkDown, firstShell timer ──▶ ended(connection-lost) ◀── window timer ──┘
//   waiting, live, gone ── hotkey, shellExited, stop ──▶ ended
//   ended swallows everything; a link that still shows up is dropped.
//
// A link is a number the link supervisor gives each connection; events about a link that is not
// the current one (an old link closing after a new one took over) change nothing.

export type EndReason = 'hotkey' | 'shell-exited' | 'helper-left' | 'connection-lost' | 'signal' | 'error' | 'time-limit';
export type FriendTimer = 'firstShell' | 'window';

export type FriendState =
  /** Verified, the helper's program starting its shell. */
  | { kind: 'waiting'; mayType: boolean }
  /** `noted`: when the helper was last told it may not type. */
  | { kind: 'live'; link: number; mayType: boolean; noted: number }
  /** The link dropped without a goodbye; the shell runs on until `until`. */
  | { kind: 'gone'; mayType: boolean; until: number }
  | { kind: 'ended'; reason: EndReason };

export type FriendEvent =
  /** The helper's shell channel opened on this link (the first, or one coming back). */
  | { type: 'shell'; link: number }
  /** The helper leaves on purpose: its goodbye on the control channel, or EOF on its shell. The
   * session ends now, so the helper's program, which waits for us to close, is not kept. */
  | { type: 'bye'; link: number }
  | { type: 'linkDown'; link: number; error: string | null; at: number }
  /** The helper typed something on this link. */
  | { type: 'helperKeys'; link: number; at: number }
  /** Ctrl-Alt-K: the friend takes the keyboard from the helper or gives it back. */
  | { type: 'toggleKeyboard' }
  /** Ctrl-Alt-C or F12. */
  | { type: 'hotkey' }
  | { type: 'shellExited'; status: number }
  | { type: 'stop'; reason: 'signal' | 'error' | 'time-limit' }
  | { type: 'timer'; timer: FriendTimer };

export type FriendEffect =
  /** The first shell: start the shared pty (at this link's size), the screen and the transcript. */
  | { type: 'start'; link: number }
  /** Make this link the helper's: its output, keys and control channel; `back`: it came back. */
  | { type: 'attach'; link: number; back: boolean }
  /** Close this link (another took over, or it is gone). */
  | { type: 'drop'; link: number }
  /** The link was lost: record it, ask the link supervisor to look for it until `until`. */
  | { type: 'lost'; link: number; error: string | null; until: number | null }
  | { type: 'seek'; until: number }
  | { type: 'stopSeeking' }
  | { type: 'setTimer'; timer: FriendTimer; ms: number }
  | { type: 'clearTimer'; timer: FriendTimer }
  /** Pass the helper's keys to the shell. */
  | { type: 'toShell' }
  /** Tell the helper why its keys went nowhere. */
  | { type: 'typingRefused' }
  /** A line for the transcript. */
  | { type: 'mark'; text: string }
  /** The friend's consent changed: tell the helper, record it, repaint. */
  | { type: 'keyboard'; allowed: boolean }
  /** The set of terminals sharing the pty changed (a helper came or went). */
  | { type: 'resize' }
  | { type: 'end'; reason: EndReason; detail: string };

export interface FriendRules {
  /** How long a dropped link may take to come back; 0 ends the session at once. */
  windowMs: number;
  /** How long the helper's program may take to open its shell after the code is confirmed. */
  firstShellMs: number;
}

/** At most one "the friend has the keyboard" note to a typing helper in this long. */
export const TYPING_NOTE_MS = 3000;

type Step = { state: FriendState; effects: FriendEffect[] };

export function initialFriend(mayType: boolean, rules: FriendRules): Step {
  return { state: { kind: 'waiting', mayType }, effects: [{ type: 'setTimer', timer: 'firstShell', ms: rules.firstShellMs }] };
}

const stay = (state: FriendState): Step => ({ state, effects: [] });
const STOPPED = { signal: 'remote-help was stopped.', error: 'remote-help ran into a problem.', 'time-limit': 'The session reached its time limit.' };
const end = (reason: EndReason, detail: string, before: FriendEffect[] = []): Step =>
  ({ state: { kind: 'ended', reason }, effects: [...before, { type: 'end', reason, detail }] });

export function stepFriend(s: FriendState, e: FriendEvent, rules: FriendRules): Step {
  if (s.kind === 'ended') return e.type === 'shell' ? { state: s, effects: [{ type: 'drop', link: e.link }] } : stay(s);
  // Endings that hold in every state.
  switch (e.type) {
    case 'hotkey':
      return end('hotkey', 'The friend pressed the hotkey.');
    case 'shellExited':
      return end('shell-exited', `The shell ended (exit status ${e.status}).`);
    case 'stop':
      return end(e.reason, STOPPED[e.reason]);
    case 'toggleKeyboard':
      return { state: { ...s, mayType: !s.mayType }, effects: [{ type: 'keyboard', allowed: !s.mayType }] };
  }
  switch (s.kind) {
    case 'waiting':
      return waiting(s, e);
    case 'live':
      return live(s, e, rules);
    case 'gone':
      return gone(s, e);
  }
}

function waiting(s: Extract<FriendState, { kind: 'waiting' }>, e: FriendEvent): Step {
  if (e.type === 'shell') {
    return {
      state: { kind: 'live', link: e.link, mayType: s.mayType, noted: -Infinity },
      effects: [{ type: 'clearTimer', timer: 'firstShell' }, { type: 'start', link: e.link }, { type: 'attach', link: e.link, back: false }],
    };
  }
  if (e.type === 'linkDown') return end('connection-lost', e.error ?? 'the connection closed before the shell started');
  if (e.type === 'timer' && e.timer === 'firstShell') return end('connection-lost', 'the helper did not start the shell in time');
  return stay(s);
}

function live(s: Extract<FriendState, { kind: 'live' }>, e: FriendEvent, rules: FriendRules): Step {
  switch (e.type) {
    case 'shell':
      if (e.link === s.link) return stay(s);
      // The same helper on a new connection (only its verified key gets this far): the old
      // link is dead or dying, the new one takes over.
      return { state: { ...s, link: e.link }, effects: [{ type: 'drop', link: s.link }, { type: 'attach', link: e.link, back: true }] };
    case 'bye':
      return e.link === s.link ? end('helper-left', 'The helper left the session.', [{ type: 'mark', text: 'helper left' }]) : stay(s);
    case 'helperKeys':
      if (e.link !== s.link) return stay(s);
      if (s.mayType) return { state: s, effects: [{ type: 'toShell' }] };
      if (e.at - s.noted < TYPING_NOTE_MS) return stay(s);
      return { state: { ...s, noted: e.at }, effects: [{ type: 'typingRefused' }] };
    case 'linkDown': {
      if (e.link !== s.link) return stay(s);
      const drop: FriendEffect = { type: 'drop', link: s.link };
      if (rules.windowMs <= 0)
        return end('connection-lost', e.error ?? 'The connection to the helper was lost.', [drop, { type: 'lost', link: s.link, error: e.error, until: null }]);
      const until = e.at + rules.windowMs;
      return {
        state: { kind: 'gone', mayType: s.mayType, until },
        effects: [drop, { type: 'lost', link: s.link, error: e.error, until }, { type: 'setTimer', timer: 'window', ms: rules.windowMs },
          { type: 'seek', until }, { type: 'resize' }],
      };
    }
    default:
      return stay(s);
  }
}

function gone(s: Extract<FriendState, { kind: 'gone' }>, e: FriendEvent): Step {
  if (e.type === 'shell') {
    return {
      state: { kind: 'live', link: e.link, mayType: s.mayType, noted: -Infinity },
      effects: [{ type: 'clearTimer', timer: 'window' }, { type: 'stopSeeking' }, { type: 'attach', link: e.link, back: true }],
    };
  }
  if (e.type === 'timer' && e.timer === 'window')
    return end('connection-lost', 'The helper did not come back in time.', [{ type: 'mark', text: 'reconnect window closed' }]);
  return stay(s);
}
