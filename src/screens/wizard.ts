// The seven numbered steps as a pure state machine: step(state, event) -> { state, effects }.
// Views (plain lines now, full-screen later) render the state and turn keys into events; the app
// carries out the effects (connect, confirm, abort, exit). No I/O here.
import type { Ending, ExitCode } from '../errors';

import type { Role } from '../shared';

export type { Role };
export type Step = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Who the helper says they are, and what the friend's memory makes of it (the friend's step 5):
 * the identity seen before (its name then, the last session, how many); one never seen; a name
 * the friend knows from another identity; or no identity at all. `last` is ms since the epoch. */
export type Seen =
  | { kind: 'known'; name: string; before: string; last: number; sessions: number }
  | { kind: 'new'; name: string }
  | { kind: 'impostor'; name: string; before: string; last: number }
  | { kind: 'anonymous' };

export interface WizardState {
  step: Step;
  role: Role | null;
  reverse: boolean;
  /** What the person typed for the other side's address (friend, or helper with --reverse). */
  address: string;
  port: number;
  /** The helper meets the friend through this SSH server ([USER@]HOST[:PORT], --via); '' when not. */
  via: string;
  /** The one-time word the friend typed for a meeting point (USER@HOST as the address). */
  word: string;
  /** Step 3 asks the friend for that word: the address typed is a meeting point. */
  wordNeeded: boolean;
  /** The helper is typing the meeting point on step 3 (s). */
  viaEditing: boolean;
  /** A problem to show on the current screen, with what to do next. */
  problem: { message: string; next: string } | null;
  /** What step 4 is doing now, e.g. "Waiting for your friend on port 2222". */
  activity: string;
  /** Step 4 offers to start this machine's network (N): it is what is missing. */
  networkOffer: boolean;
  /** The waiting side opens this machine's firewall for the session's port (step 3, off by
   * default, or --open-firewall). */
  openFirewall: boolean;
  /** The waiting side asks the router to forward its port (UPnP / NAT-PMP; step 3, --map-port). */
  mapPort: boolean;
  /** The name the helper shows friends ('' until chosen: step 3 asks for it), and whether the
   * helper is changing it there (n). */
  helperName: string;
  nameEditing: boolean;
  code: string | null;
  peer: { user: string; host: string } | null;
  /** The friend's side: who the helper says they are, and whether they helped before. */
  seen: Seen | null;
  /** Other computers that reached a code while this one is shown (the waiting side keeps taking
   * them until someone is confirmed): the code the friend reads tells which is theirs. */
  others: { user: string; host: string; code: string }[];
  codeCheck: 'none' | 'match' | 'mismatch';
  mismatches: number;
  localConfirmed: boolean;
  peerConfirmed: boolean;
  /** The friend's choice: may the helper type when the session starts (v on steps 5 and 6). */
  helperMayType: boolean;
  /** The friend's choice: share the screen too (d on steps 5 and 6, or --desktop), when there is
   * one to share; else why not (a Wayland desktop, no x11vnc), said on those steps. */
  shareDesktop: boolean;
  desktopAvailable: boolean;
  desktopNote: string | null;
  /** What this computer's administrator turned off (policy.ts): the screens say so, and the
   * choice does nothing. `typing`: helpers only watch. */
  off: Off;
  /** Set once, when everything is over: why, what next, and the exit status. */
  ended: Ending | null;
}

export interface Off {
  typing: boolean;
  firewall: boolean;
  mapPort: boolean;
  meeting: boolean;
}

export type WizardEvent =
  | { type: 'continue' }
  | { type: 'back' }
  | { type: 'quit' }
  | { type: 'chooseRole'; role: Role }
  | { type: 'toggleReverse' }
  | { type: 'toggleFirewall' }
  | { type: 'toggleMapPort' }
  | { type: 'setAddress'; text: string; problem: string | null }
  /** s on the helper's step 3: type a meeting point; then the server typed ('' for none). */
  | { type: 'editVia' }
  | { type: 'setVia'; text: string; problem: string | null }
  /** n on the helper's step 3: change the name friends see; then the name typed, or what is wrong with it. */
  | { type: 'editName' }
  | { type: 'setName'; text: string; problem: string | null }
  /** The one-time word of a meeting point (normalized), or what is wrong with what was typed. */
  | { type: 'setWord'; word: string; problem: string | null }
  /** `offerNetwork`: this machine's network is what is missing, and N may start it. */
  | { type: 'activity'; text: string; offerNetwork?: boolean }
  /** N on step 4: start this machine's network. */
  | { type: 'startNetwork' }
  | { type: 'codeShown'; code: string; peer: { user: string; host: string }; seen?: Seen }
  /** `which`: the computer whose code matched: 0 the one shown, 1 the first of `others`, ... */
  | { type: 'codeTyped'; matches: boolean; which?: number; invalid?: string }
  /** Another computer reached a code on the waiting side. */
  | { type: 'anotherPeer'; peer: { user: string; host: string }; code: string }
  | { type: 'pressY' }
  | { type: 'toggleTyping' }
  | { type: 'toggleDesktop' }
  | { type: 'peerConfirmed' }
  | { type: 'sessionStarted' }
  /** Connecting failed in a way the person can fix on step 3 (a wrong address, nobody there). */
  | { type: 'connectFailed'; message: string; next: string }
  /** Everything is over (a session ended, connecting failed for good, a signal). */
  | { type: 'ended'; ending: Ending };

export type Effect =
  | { type: 'connect' }
  | { type: 'startNetwork' }
  | { type: 'cancelConnect' }
  /** Keep the name the helper chose to show friends. */
  | { type: 'saveName'; name: string }
  /** Confirm that computer (0: the one shown, 1: the first of `others`, ...); turn the rest away. */
  | { type: 'confirm'; which: number }
  | { type: 'abort'; reason: 'code-mismatch' | 'cancelled'; text: string }
  | { type: 'exit'; exit: ExitCode };

/** After this many wrong codes the helper's side stops: guessing is what a man in the middle does. */
export const MAX_MISMATCHES = 3;

export function initialState(o: Partial<Pick<WizardState, 'role' | 'reverse' | 'address' | 'port' | 'via' | 'word' | 'helperMayType' | 'openFirewall' | 'mapPort' | 'shareDesktop' | 'desktopAvailable' | 'desktopNote' | 'off' | 'helperName'>> = {}): WizardState {
  const off = o.off ?? { typing: false, firewall: false, mapPort: false, meeting: false };
  return {
    step: 1,
    role: o.role ?? null,
    reverse: o.reverse ?? false,
    address: o.address ?? '',
    port: o.port ?? 2222,
    via: o.via ?? '',
    word: o.word ?? '',
    wordNeeded: false,
    viaEditing: false,
    problem: null,
    activity: '',
    networkOffer: false,
    openFirewall: (o.openFirewall ?? false) && !off.firewall,
    mapPort: (o.mapPort ?? false) && !off.mapPort,
    helperName: o.helperName ?? '',
    nameEditing: false,
    code: null,
    peer: null,
    seen: null,
    others: [],
    codeCheck: 'none',
    mismatches: 0,
    localConfirmed: false,
    peerConfirmed: false,
    helperMayType: (o.helperMayType ?? true) && !off.typing,
    shareDesktop: (o.shareDesktop ?? false) && (o.desktopAvailable ?? false),
    desktopAvailable: o.desktopAvailable ?? false,
    desktopNote: o.desktopNote ?? null,
    off,
    ended: null,
  };
}

/** What the helper typed, checked against every computer's code: the event for it. */
export function codeTyped(s: WizardState, typed: string, match: (code: string, typed: string) => boolean): WizardEvent {
  const codes = [s.code, ...s.others.map((o) => o.code)];
  const which = codes.findIndex((c) => c !== null && match(c, typed));
  return which >= 0 ? { type: 'codeTyped', matches: true, which } : { type: 'codeTyped', matches: false };
}

/** True when this side dials the other: a friend by default, a helper with --reverse. */
export function dials(s: WizardState): boolean {
  return (s.role === 'friend') !== s.reverse;
}

type Result = { state: WizardState; effects: Effect[] };

/** Several events in turn: the state after the last, and every effect on the way (tests, replays). */
export function stepAll(s: WizardState, events: WizardEvent[]): { s: WizardState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const e of events) {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
  }
  return { s, effects };
}
const same = (state: WizardState): Result => ({ state, effects: [] });
const go = (state: WizardState, patch: Partial<WizardState>, effects: Effect[] = []): Result => ({
  state: { ...state, ...patch },
  effects,
});

export function step(s: WizardState, e: WizardEvent): Result {
  if (s.ended) return same(s); // everything after the end is ignored
  if (e.type === 'ended') {
    // Plain data, also when the ending came as a HelpError (whose message is not enumerable).
    const { exit, message, next } = e.ending;
    return go(s, { ended: { exit, message, next } }, [{ type: 'exit', exit }]);
  }
  if (e.type === 'quit') return quit(s);
  switch (s.step) {
    case 1:
      if (e.type === 'continue') return go(s, { step: s.role ? 3 : 2, problem: null });
      return same(s);
    case 2:
      // The remembered address is the last helper's: it means nothing to a helper.
      if (e.type === 'chooseRole') return go(s, { step: 3, role: e.role, problem: null, address: e.role === 'helper' ? '' : s.address });
      if (e.type === 'back') return go(s, { step: 1 });
      return same(s);
    case 3:
      return details(s, e);
    case 4:
      if (e.type === 'activity') return go(s, { activity: e.text, networkOffer: e.offerNetwork ?? false });
      if (e.type === 'startNetwork' && s.networkOffer) return go(s, { networkOffer: false }, [{ type: 'startNetwork' }]);
      if (e.type === 'codeShown') return go(s, { step: 5, code: e.code, peer: e.peer, seen: e.seen ?? null, problem: null });
      if (e.type === 'back') return go(s, { step: 3, activity: '' }, [{ type: 'cancelConnect' }]);
      if (e.type === 'connectFailed') return go(s, { step: 3, activity: '', problem: { message: e.message, next: e.next } });
      return same(s);
    case 5:
      if (e.type === 'toggleTyping' && s.role === 'friend' && !s.off.typing) return go(s, { helperMayType: !s.helperMayType });
      if (e.type === 'toggleDesktop' && s.role === 'friend' && s.desktopAvailable) return go(s, { shareDesktop: !s.shareDesktop });
      return verify(s, e);
    case 6:
      if (e.type === 'toggleTyping' && s.role === 'friend' && !s.off.typing) return go(s, { helperMayType: !s.helperMayType });
      if (e.type === 'toggleDesktop' && s.role === 'friend' && s.desktopAvailable) return go(s, { shareDesktop: !s.shareDesktop });
      if (e.type === 'sessionStarted') return go(s, { step: 7 });
      return same(s);
    case 7:
      return same(s);
  }
}

/** The helper's step 3 asks for the name friends see: the first time, and after n. */
export function asksName(s: WizardState): boolean {
  return s.step === 3 && s.role === 'helper' && (s.nameEditing || s.helperName === '');
}

function details(s: WizardState, e: WizardEvent): Result {
  if (asksName(s)) {
    if (e.type === 'back') return s.helperName ? go(s, { nameEditing: false, problem: null }) : go(s, { step: 2, problem: null });
    if (e.type !== 'setName') return same(s);
    if (e.problem) return go(s, { problem: { message: e.problem, next: 'Type a short name your friends know you by, like "Alex, your nephew".' } });
    return go(s, { helperName: e.text, nameEditing: false, problem: null }, [{ type: 'saveName', name: e.text }]);
  }
  if (e.type === 'editName' && s.role === 'helper') return go(s, { nameEditing: true, problem: null });
  if (s.wordNeeded) {
    if (e.type === 'back') return go(s, { wordNeeded: false, problem: null });
    if (e.type !== 'setWord') return same(s);
    if (e.problem) return go(s, { problem: { message: e.problem, next: 'Type the word again, as your helper reads it.' } });
    return go(s, { word: e.word, wordNeeded: false, step: 4, problem: null, activity: '' }, [{ type: 'connect' }]);
  }
  if (s.viaEditing) {
    if (e.type === 'back') return go(s, { viaEditing: false, problem: null });
    if (e.type !== 'setVia') return same(s);
    if (e.problem) return go(s, { problem: { message: e.problem, next: 'Type it as you would to ssh, or nothing to meet directly.' } });
    return go(s, { via: e.text, viaEditing: false, problem: null });
  }
  if (e.type === 'editVia' && s.role === 'helper' && !s.reverse && !s.off.meeting) return go(s, { viaEditing: true, problem: null });
  if (e.type === 'back') return go(s, { step: 2, problem: null });
  if (e.type === 'toggleReverse' && s.via) return same(s); // both connect out to the server
  if (e.type === 'toggleReverse') return go(s, { reverse: !s.reverse, problem: null });
  if (e.type === 'toggleFirewall' && !dials(s) && !s.off.firewall) return go(s, { openFirewall: !s.openFirewall });
  if (e.type === 'toggleMapPort' && !dials(s) && !s.off.mapPort) return go(s, { mapPort: !s.mapPort });
  if (e.type === 'setAddress') {
    // A bad address is not kept: "Last time" must only ever offer one that could be used.
    if (e.problem) return go(s, { problem: { message: e.problem, next: 'Check the address and type it again.' } });
    // A meeting point (USER@HOST) also takes the one-time word the helper reads out.
    if (e.text.includes('@')) return go(s, { address: e.text, word: '', wordNeeded: true, problem: null });
    return go(s, { address: e.text, step: 4, problem: null, activity: '' }, [{ type: 'connect' }]);
  }
  if (e.type === 'continue' && !dials(s)) return go(s, { step: 4, problem: null, activity: '' }, [{ type: 'connect' }]);
  return same(s);
}

function verify(s: WizardState, e: WizardEvent): Result {
  let r: Result;
  if (e.type === 'codeTyped' && s.role === 'helper' && s.codeCheck !== 'match') {
    if (e.invalid) return go(s, { problem: { message: e.invalid, next: 'Type the five symbols your friend reads, then Enter.' } });
    if (e.matches) {
      const which = e.which ?? 0;
      const chosen = which === 0 ? { code: s.code, peer: s.peer } : { code: s.others[which - 1].code, peer: { user: s.others[which - 1].user, host: s.others[which - 1].host } };
      r = go(s, { ...chosen, others: [], codeCheck: 'match', localConfirmed: true, problem: null }, [{ type: 'confirm', which }]);
    } else if (s.mismatches + 1 >= MAX_MISMATCHES) {
      return go(s, {
        codeCheck: 'mismatch',
        mismatches: s.mismatches + 1,
        ended: { message: `The code did not match ${MAX_MISMATCHES} times, so remote-help stopped.`,
          next: 'Someone may be in the middle. Start again from the beginning, and read the code slowly.', exit: 'code' },
      }, [{ type: 'abort', reason: 'code-mismatch', text: 'the helper typed a code that did not match' }, { type: 'exit', exit: 'code' }]);
    } else return go(s, { codeCheck: 'mismatch', mismatches: s.mismatches + 1, problem: null });
  } else if (e.type === 'pressY' && s.role === 'friend' && !s.localConfirmed) {
    r = go(s, { localConfirmed: true, others: [] }, [{ type: 'confirm', which: 0 }]);
  } else if (e.type === 'anotherPeer') {
    if (s.localConfirmed) return same(s); // chosen already: it is turned away
    return go(s, { others: [...s.others, { ...e.peer, code: e.code }] });
  } else if (e.type === 'peerConfirmed') {
    r = go(s, { peerConfirmed: true });
  } else if (e.type === 'back') {
    return quit(s);
  } else return same(s);
  if (r.state.localConfirmed && r.state.peerConfirmed) r.state = { ...r.state, step: 6 };
  return r;
}

function quit(s: WizardState): Result {
  const effects: Effect[] = [];
  if (s.step === 4) effects.push({ type: 'cancelConnect' });
  if (s.step === 5) effects.push({ type: 'abort', reason: 'cancelled', text: `the ${s.role ?? 'other person'} stopped` });
  effects.push({ type: 'exit', exit: 'cancelled' });
  return go(s, { ended: { message: 'You stopped remote-help. Nothing was shared.', next: 'Run remote-help again when you are ready.', exit: 'cancelled' } }, effects);
}
