// The live session on the helper's side as named states (pure): step(state, event, rules) ->
// { state, effects }, like the friend's (friend-machine.ts). The runner (helper-session.ts) feeds
// it what happens and carries out its effects; the reconnect window is owned here.
//
//   live ──down, no word from the friend──▶ gone ──up, in time──▶ live
//    │ ▲ up on another link: it replaces this one   │
//    │ └─────────────────────────────────────────── │ ── window timer ──▶ ended(closed)
//    ├── the shell's exit, then its channel or the link closes ──▶ ended(exit)
//    ├── down with no reconnect window ──▶ ended(closed)
//    └── leave (~.), stop ──▶ ended(left), saying goodbye      gone ── leave, stop ──▶ ended(left)
//   ended swallows everything; a link that still shows up is dropped.

/** How the friend's side said the shell ended (an exit status, or a signal with a goodbye). */
export interface ShellExit {
  code: number | null;
  signal: string | null;
  message: string | null;
}

export type HelperEnd =
  /** The helper left (~., Ctrl-C while the link is gone, a signal). */
  | { kind: 'left' }
  | ({ kind: 'exit' } & ShellExit)
  /** The link was lost and did not come back. */
  | { kind: 'closed' };

export type HelperState =
  | { kind: 'live'; link: number; exit: ShellExit | null }
  | { kind: 'gone'; until: number }
  | { kind: 'ended'; end: HelperEnd };

export type HelperEvent =
  /** A link is up with its shell open (the first, or one that came back). */
  | { type: 'up'; link: number }
  | { type: 'shellExit'; link: number; exit: ShellExit }
  /** The link's shell channel closed. */
  | { type: 'shellClosed'; link: number }
  | { type: 'down'; link: number; error: string | null; at: number }
  /** ~. (or Ctrl-C while the link is gone). */
  | { type: 'leave' }
  | { type: 'stop'; reason: 'signal' | 'error' }
  | { type: 'timer'; timer: 'window' };

export type HelperEffect =
  | { type: 'attach'; link: number; back: boolean }
  | { type: 'drop'; link: number }
  /** The link dropped: tell the helper, and until when it is looked for (null: it is not). */
  | { type: 'lost'; error: string | null; until: number | null }
  | { type: 'seek'; until: number }
  | { type: 'stopSeeking' }
  | { type: 'setTimer'; timer: 'window'; ms: number }
  | { type: 'clearTimer'; timer: 'window' }
  /** `bye`: tell the friend's side we leave on purpose, so it does not wait for us. */
  | { type: 'end'; end: HelperEnd; bye: boolean };

export interface HelperRules {
  /** How long a dropped link may take to come back; 0 ends the session at once. */
  windowMs: number;
}

type Step = { state: HelperState; effects: HelperEffect[] };

export function initialHelper(link: number): Step {
  return { state: { kind: 'live', link, exit: null }, effects: [{ type: 'attach', link, back: false }] };
}

const stay = (state: HelperState): Step => ({ state, effects: [] });
const end = (e: HelperEnd, bye: boolean, before: HelperEffect[] = []): Step =>
  ({ state: { kind: 'ended', end: e }, effects: [...before, { type: 'end', end: e, bye }] });

export function stepHelper(s: HelperState, e: HelperEvent, rules: HelperRules): Step {
  if (s.kind === 'ended') return e.type === 'up' ? { state: s, effects: [{ type: 'drop', link: e.link }] } : stay(s);
  if (e.type === 'leave' || e.type === 'stop') return end({ kind: 'left' }, s.kind === 'live');
  return s.kind === 'live' ? live(s, e, rules) : gone(s, e);
}

function live(s: Extract<HelperState, { kind: 'live' }>, e: HelperEvent, rules: HelperRules): Step {
  switch (e.type) {
    case 'up':
      if (e.link === s.link) return stay(s);
      return { state: { kind: 'live', link: e.link, exit: null }, effects: [{ type: 'drop', link: s.link }, { type: 'attach', link: e.link, back: true }] };
    case 'shellExit':
      return e.link === s.link ? stay({ ...s, exit: e.exit }) : stay(s);
    case 'shellClosed':
      return e.link === s.link && s.exit ? end({ kind: 'exit', ...s.exit }, false) : stay(s);
    case 'down': {
      if (e.link !== s.link) return stay(s);
      if (s.exit) return end({ kind: 'exit', ...s.exit }, false); // the friend ended it and said so
      const drop: HelperEffect = { type: 'drop', link: s.link };
      if (rules.windowMs <= 0) return end({ kind: 'closed' }, false, [drop, { type: 'lost', error: e.error, until: null }]);
      const until = e.at + rules.windowMs;
      return {
        state: { kind: 'gone', until },
        effects: [drop, { type: 'lost', error: e.error, until }, { type: 'setTimer', timer: 'window', ms: rules.windowMs }, { type: 'seek', until }],
      };
    }
    default:
      return stay(s);
  }
}

function gone(s: Extract<HelperState, { kind: 'gone' }>, e: HelperEvent): Step {
  if (e.type === 'up') {
    return {
      state: { kind: 'live', link: e.link, exit: null },
      effects: [{ type: 'clearTimer', timer: 'window' }, { type: 'stopSeeking' }, { type: 'attach', link: e.link, back: true }],
    };
  }
  if (e.type === 'timer') return end({ kind: 'closed' }, false);
  return stay(s);
}
