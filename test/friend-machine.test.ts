// The friend's session machine as a table: every state against every event, each row saying the
// state it leads to and the effects it asks for, in order. A state or event added to the machine
// without a row here fails the first test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialFriend, stepFriend, TYPING_NOTE_MS, type FriendEvent, type FriendRules, type FriendState } from '../src/session/friend-machine';

const RULES: FriendRules = { windowMs: 600_000, firstShellMs: 30_000 };
const T = 1_000_000;

const STATES: Record<string, FriendState> = {
  waiting: { kind: 'waiting', mayType: true },
  live: { kind: 'live', link: 1, mayType: true, noted: -Infinity },
  'live view-only': { kind: 'live', link: 1, mayType: false, noted: -Infinity },
  'live view-only, just noted': { kind: 'live', link: 1, mayType: false, noted: T - 1 },
  gone: { kind: 'gone', mayType: true, until: T + 600_000 },
  ended: { kind: 'ended', reason: 'hotkey' },
};

const EVENTS: Record<string, FriendEvent> = {
  'shell on link 1': { type: 'shell', link: 1 },
  'shell on link 2': { type: 'shell', link: 2 },
  'bye on link 1': { type: 'bye', link: 1 },
  'bye on link 2': { type: 'bye', link: 2 },
  'link 1 down': { type: 'linkDown', link: 1, error: 'reset', at: T },
  'link 2 down': { type: 'linkDown', link: 2, error: 'reset', at: T },
  'keys on link 1': { type: 'helperKeys', link: 1, at: T },
  'keys on link 2': { type: 'helperKeys', link: 2, at: T },
  'Ctrl-Alt-K': { type: 'toggleKeyboard' },
  hotkey: { type: 'hotkey' },
  'shell exited': { type: 'shellExited', status: 0 },
  signal: { type: 'stop', reason: 'signal' },
  error: { type: 'stop', reason: 'error' },
  'first-shell timer': { type: 'timer', timer: 'firstShell' },
  'window timer': { type: 'timer', timer: 'window' },
};

// What is the same in every state but ended.
const ENDINGS = {
  hotkey: 'ended(hotkey): end',
  'shell exited': 'ended(shell-exited): end',
  signal: 'ended(signal): end',
  error: 'ended(error): end',
};
const NOTHING = (s: string) => `${s}: -`;

/** What every live state does; they differ in the helper's keys on the current link and Ctrl-Alt-K. */
function liveRows(keys: string, ctrlK: string) {
  return {
    ...ENDINGS,
    'shell on link 1': NOTHING('live'),
    'shell on link 2': 'live: drop(1), attach(2, back)',
    'bye on link 1': 'ended(helper-left): mark, end',
    'bye on link 2': NOTHING('live'),
    'link 1 down': 'gone: drop(1), lost(1), setTimer(window), seek, resize',
    'link 2 down': NOTHING('live'),
    'keys on link 1': keys,
    'keys on link 2': NOTHING('live'),
    'Ctrl-Alt-K': ctrlK,
    'first-shell timer': NOTHING('live'),
    'window timer': NOTHING('live'),
  };
}

/** state -> event -> "next state: effect, effect" ("-" for none). */
const TABLE: Record<string, Record<string, string>> = {
  waiting: {
    ...ENDINGS,
    'shell on link 1': 'live: clearTimer(firstShell), start, attach(1)',
    'shell on link 2': 'live: clearTimer(firstShell), start, attach(2)',
    'bye on link 1': NOTHING('waiting'),
    'bye on link 2': NOTHING('waiting'),
    'link 1 down': 'ended(connection-lost): end',
    'link 2 down': 'ended(connection-lost): end',
    'keys on link 1': NOTHING('waiting'),
    'keys on link 2': NOTHING('waiting'),
    'Ctrl-Alt-K': 'waiting: keyboard(false)',
    'first-shell timer': 'ended(connection-lost): end',
    'window timer': NOTHING('waiting'),
  },
  live: liveRows('live: toShell', 'live: keyboard(false)'),
  'live view-only': liveRows('live: typingRefused', 'live: keyboard(true)'),
  'live view-only, just noted': liveRows(NOTHING('live'), 'live: keyboard(true)'),
  gone: {
    ...ENDINGS,
    'shell on link 1': 'live: clearTimer(window), stopSeeking, attach(1, back)',
    'shell on link 2': 'live: clearTimer(window), stopSeeking, attach(2, back)',
    'bye on link 1': NOTHING('gone'),
    'bye on link 2': NOTHING('gone'),
    'link 1 down': NOTHING('gone'),
    'link 2 down': NOTHING('gone'),
    'keys on link 1': NOTHING('gone'),
    'keys on link 2': NOTHING('gone'),
    'Ctrl-Alt-K': 'gone: keyboard(false)',
    'first-shell timer': NOTHING('gone'),
    'window timer': 'ended(connection-lost): mark, end',
  },
  ended: {
    hotkey: NOTHING('ended(hotkey)'),
    'shell exited': NOTHING('ended(hotkey)'),
    signal: NOTHING('ended(hotkey)'),
    error: NOTHING('ended(hotkey)'),
    'shell on link 1': 'ended(hotkey): drop(1)',
    'shell on link 2': 'ended(hotkey): drop(2)',
    'bye on link 1': NOTHING('ended(hotkey)'),
    'bye on link 2': NOTHING('ended(hotkey)'),
    'link 1 down': NOTHING('ended(hotkey)'),
    'link 2 down': NOTHING('ended(hotkey)'),
    'keys on link 1': NOTHING('ended(hotkey)'),
    'keys on link 2': NOTHING('ended(hotkey)'),
    'Ctrl-Alt-K': NOTHING('ended(hotkey)'),
    'first-shell timer': NOTHING('ended(hotkey)'),
    'window timer': NOTHING('ended(hotkey)'),
  },
};

function describe(s: FriendState, effects: ReturnType<typeof stepFriend>['effects']): string {
  const state = s.kind === 'ended' ? `ended(${s.reason})` : s.kind;
  const words = effects.map((e) => {
    switch (e.type) {
      case 'attach': return `attach(${e.link}${e.back ? ', back' : ''})`;
      case 'drop': case 'lost': return `${e.type}(${e.link})`;
      case 'setTimer': case 'clearTimer': return `${e.type}(${e.timer})`;
      case 'keyboard': return `keyboard(${e.allowed})`;
      default: return e.type;
    }
  });
  return `${state}: ${words.length ? words.join(', ') : '-'}`;
}

test('the table has a row for every state and every event', () => {
  for (const s of Object.keys(STATES)) {
    assert.ok(TABLE[s], `no rows for the state ${s}`);
    assert.deepEqual(Object.keys(TABLE[s]).sort(), Object.keys(EVENTS).sort(), `the events of ${s}`);
  }
});

for (const [name, s] of Object.entries(STATES)) {
  test(`friend machine, ${name}: every event`, () => {
    for (const [ev, e] of Object.entries(EVENTS)) {
      const r = stepFriend(s, e, RULES);
      assert.equal(describe(r.state, r.effects), TABLE[name][ev], `${name} + ${ev}`);
    }
  });
}

test('the reconnect window: the link goes down at T, the runner sets the timer for the window, and seeks until T + window', () => {
  const r = stepFriend(STATES.live, EVENTS['link 1 down'], RULES);
  assert.deepEqual(r.state, { kind: 'gone', mayType: true, until: T + RULES.windowMs });
  assert.deepEqual(r.effects.find((e) => e.type === 'setTimer'), { type: 'setTimer', timer: 'window', ms: RULES.windowMs });
  assert.deepEqual(r.effects.find((e) => e.type === 'seek'), { type: 'seek', until: T + RULES.windowMs });
  assert.deepEqual(r.effects.find((e) => e.type === 'lost'), { type: 'lost', link: 1, error: 'reset', until: T + RULES.windowMs });
});

test('no reconnect window: a dropped link ends the session at once, nobody seeks', () => {
  const r = stepFriend(STATES.live, EVENTS['link 1 down'], { ...RULES, windowMs: 0 });
  assert.equal(r.state.kind, 'ended');
  assert.deepEqual(r.effects.map((e) => e.type), ['drop', 'lost', 'end']);
  assert.deepEqual(r.effects[1], { type: 'lost', link: 1, error: 'reset', until: null });
  assert.deepEqual(r.effects[2], { type: 'end', reason: 'connection-lost', detail: 'reset' });
});

test('a link that returns after the window closed is dropped; the session stays ended', () => {
  let s: FriendState = STATES.gone;
  s = stepFriend(s, EVENTS['window timer'], RULES).state;
  assert.deepEqual(s, { kind: 'ended', reason: 'connection-lost' });
  const r = stepFriend(s, { type: 'shell', link: 7 }, RULES);
  assert.deepEqual(r, { state: s, effects: [{ type: 'drop', link: 7 }] });
});

test('a second link while one is live replaces it and keeps the friend\'s choice', () => {
  const r = stepFriend(STATES.live, EVENTS['shell on link 2'], RULES);
  assert.deepEqual(r.state, { kind: 'live', link: 2, mayType: true, noted: -Infinity });
  const viewOnly = stepFriend(STATES['live view-only'], EVENTS['shell on link 2'], RULES).state;
  assert.equal(viewOnly.kind === 'live' && viewOnly.mayType, false);
  // The old link closing afterwards changes nothing.
  assert.deepEqual(stepFriend(r.state, EVENTS['link 1 down'], RULES), { state: r.state, effects: [] });
});

test('the friend\'s choice survives the link going and coming back', () => {
  let s = stepFriend(STATES['live view-only'], EVENTS['link 1 down'], RULES).state;
  s = stepFriend(s, EVENTS['shell on link 2'], RULES).state;
  assert.deepEqual(s, { kind: 'live', link: 2, mayType: false, noted: -Infinity });
});

test('a helper typing while it may not is told at most once every few seconds', () => {
  let s = STATES['live view-only'];
  const notes: number[] = [];
  for (let at = T; at < T + 10_000; at += 500) {
    const r = stepFriend(s, { type: 'helperKeys', link: 1, at }, RULES);
    if (r.effects.some((e) => e.type === 'typingRefused')) notes.push(at - T);
    s = r.state;
  }
  assert.deepEqual(notes, [0, TYPING_NOTE_MS, 2 * TYPING_NOTE_MS, 3 * TYPING_NOTE_MS]);
});

test('the machine starts waiting for the first shell with its timer set, and the first shell ends the wait', () => {
  const first = initialFriend(false, RULES);
  assert.deepEqual(first, { state: { kind: 'waiting', mayType: false }, effects: [{ type: 'setTimer', timer: 'firstShell', ms: 30_000 }] });
  const r = stepFriend(first.state, EVENTS['shell on link 1'], RULES);
  assert.deepEqual(r.state, { kind: 'live', link: 1, mayType: false, noted: -Infinity });
});

test('the reducer is pure: a step returns a new state and leaves the old one alone', () => {
  const before = structuredClone(STATES.live);
  stepFriend(STATES.live, EVENTS['Ctrl-Alt-K'], RULES);
  stepFriend(STATES.live, EVENTS['link 1 down'], RULES);
  assert.deepEqual(STATES.live, before);
});
