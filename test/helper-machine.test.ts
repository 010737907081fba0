// The helper's session machine as a table: every state against every event, each row saying the
// state it leads to and the effects it asks for, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialHelper, stepHelper, type HelperEvent, type HelperRules, type HelperState } from '../src/session/helper-machine';

const RULES: HelperRules = { windowMs: 600_000 };
const T = 1_000_000;
const GOODBYE = { code: null, signal: 'TERM', message: 'remote-help: the friend ended the session' };

const STATES: Record<string, HelperState> = {
  live: { kind: 'live', link: 1, exit: null },
  'live, the friend said goodbye': { kind: 'live', link: 1, exit: GOODBYE },
  gone: { kind: 'gone', until: T + 600_000 },
  ended: { kind: 'ended', end: { kind: 'left' } },
};

const EVENTS: Record<string, HelperEvent> = {
  'link 1 up': { type: 'up', link: 1 },
  'link 2 up': { type: 'up', link: 2 },
  'goodbye on link 1': { type: 'shellExit', link: 1, exit: GOODBYE },
  'goodbye on link 2': { type: 'shellExit', link: 2, exit: GOODBYE },
  'shell of link 1 closed': { type: 'shellClosed', link: 1 },
  'shell of link 2 closed': { type: 'shellClosed', link: 2 },
  'link 1 down': { type: 'down', link: 1, error: 'reset', at: T },
  'link 2 down': { type: 'down', link: 2, error: 'reset', at: T },
  '~.': { type: 'leave' },
  signal: { type: 'stop', reason: 'signal' },
  'window timer': { type: 'timer', timer: 'window' },
};

const NOTHING = (s: string) => `${s}: -`;
const TABLE: Record<string, Record<string, string>> = {
  live: {
    'link 1 up': NOTHING('live'),
    'link 2 up': 'live: drop(1), attach(2, back)',
    'goodbye on link 1': NOTHING('live'),
    'goodbye on link 2': NOTHING('live'),
    'shell of link 1 closed': NOTHING('live'),
    'shell of link 2 closed': NOTHING('live'),
    'link 1 down': 'gone: drop(1), lost, setTimer, seek',
    'link 2 down': NOTHING('live'),
    '~.': 'ended(left): end(left, bye)',
    signal: 'ended(left): end(left, bye)',
    'window timer': NOTHING('live'),
  },
  'live, the friend said goodbye': {
    'link 1 up': NOTHING('live'),
    'link 2 up': 'live: drop(1), attach(2, back)',
    'goodbye on link 1': NOTHING('live'),
    'goodbye on link 2': NOTHING('live'),
    'shell of link 1 closed': 'ended(exit): end(exit)',
    'shell of link 2 closed': NOTHING('live'),
    'link 1 down': 'ended(exit): end(exit)',
    'link 2 down': NOTHING('live'),
    '~.': 'ended(left): end(left, bye)',
    signal: 'ended(left): end(left, bye)',
    'window timer': NOTHING('live'),
  },
  gone: {
    'link 1 up': 'live: clearTimer, stopSeeking, attach(1, back)',
    'link 2 up': 'live: clearTimer, stopSeeking, attach(2, back)',
    'goodbye on link 1': NOTHING('gone'),
    'goodbye on link 2': NOTHING('gone'),
    'shell of link 1 closed': NOTHING('gone'),
    'shell of link 2 closed': NOTHING('gone'),
    'link 1 down': NOTHING('gone'),
    'link 2 down': NOTHING('gone'),
    '~.': 'ended(left): end(left)',
    signal: 'ended(left): end(left)',
    'window timer': 'ended(closed): end(closed)',
  },
  ended: {
    'link 1 up': 'ended(left): drop(1)',
    'link 2 up': 'ended(left): drop(2)',
    'goodbye on link 1': NOTHING('ended(left)'),
    'goodbye on link 2': NOTHING('ended(left)'),
    'shell of link 1 closed': NOTHING('ended(left)'),
    'shell of link 2 closed': NOTHING('ended(left)'),
    'link 1 down': NOTHING('ended(left)'),
    'link 2 down': NOTHING('ended(left)'),
    '~.': NOTHING('ended(left)'),
    signal: NOTHING('ended(left)'),
    'window timer': NOTHING('ended(left)'),
  },
};

function describe(s: HelperState, effects: ReturnType<typeof stepHelper>['effects']): string {
  const state = s.kind === 'ended' ? `ended(${s.end.kind})` : s.kind;
  const words = effects.map((e) => {
    switch (e.type) {
      case 'attach': return `attach(${e.link}${e.back ? ', back' : ''})`;
      case 'drop': return `drop(${e.link})`;
      case 'end': return `end(${e.end.kind}${e.bye ? ', bye' : ''})`;
      default: return e.type;
    }
  });
  return `${state}: ${words.length ? words.join(', ') : '-'}`;
}

test('the table has a row for every state and every event', () => {
  for (const s of Object.keys(STATES)) assert.deepEqual(Object.keys(TABLE[s]).sort(), Object.keys(EVENTS).sort(), s);
});

for (const [name, s] of Object.entries(STATES)) {
  test(`helper machine, ${name}: every event`, () => {
    for (const [ev, e] of Object.entries(EVENTS)) {
      const r = stepHelper(s, e, RULES);
      assert.equal(describe(r.state, r.effects), TABLE[name][ev], `${name} + ${ev}`);
    }
  });
}

test('the window: until T + window, and the note says how long', () => {
  const r = stepHelper(STATES.live, EVENTS['link 1 down'], RULES);
  assert.deepEqual(r.state, { kind: 'gone', until: T + RULES.windowMs });
  assert.deepEqual(r.effects.find((e) => e.type === 'lost'), { type: 'lost', error: 'reset', until: T + RULES.windowMs });
  assert.deepEqual(r.effects.find((e) => e.type === 'setTimer'), { type: 'setTimer', timer: 'window', ms: RULES.windowMs });
});

test('no window: a dropped link ends it at once, closed', () => {
  const r = stepHelper(STATES.live, EVENTS['link 1 down'], { windowMs: 0 });
  assert.deepEqual(r.state, { kind: 'ended', end: { kind: 'closed' } });
  assert.deepEqual(r.effects.map((e) => e.type), ['drop', 'lost', 'end']);
});

test('the friend\'s goodbye decides the ending, whichever closes first: the shell channel or the link', () => {
  for (const last of ['shell of link 1 closed', 'link 1 down']) {
    const r = stepHelper(STATES['live, the friend said goodbye'], EVENTS[last], RULES);
    assert.deepEqual(r.state, { kind: 'ended', end: { kind: 'exit', ...GOODBYE } }, last);
  }
});

test('a link that replaced another starts without the old one\'s goodbye', () => {
  const r = stepHelper(STATES['live, the friend said goodbye'], EVENTS['link 2 up'], RULES);
  assert.deepEqual(r.state, { kind: 'live', link: 2, exit: null });
});

test('the machine starts live on its first link', () => {
  assert.deepEqual(initialHelper(3), { state: { kind: 'live', link: 3, exit: null }, effects: [{ type: 'attach', link: 3, back: false }] });
});
