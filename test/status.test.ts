// Both status lines (pure): what each person needs most is the last thing shortened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText, type HelperPresence } from '../src/session/status';
import { helperStatusText, MESSAGE_PROMPT, type HelperView } from '../src/session/helper-status';

const WIDTHS = [200, 120, 100, 80, 70, 60, 50, 40, 30, 20];
const width = (s: string) => Array.from(s).length;

test('the friend\'s status line says "Ctrl-Alt-C" at every width from 20 up, and never more than the width', () => {
  const presences: HelperPresence[] = [
    { kind: 'connected', name: 'alex', mayType: true },
    { kind: 'connected', name: 'someone.with.a.long.name@a-very-long-hostname.example', mayType: false },
    { kind: 'gone', name: 'alex', secondsLeft: 599 },
    { kind: 'waiting' },
  ];
  for (const presence of presences)
    for (const notice of [null, 'alex says: please run the update now and tell me what it prints'])
      for (const w of WIDTHS)
        for (const utf8 of [true, false]) {
          const line = statusText({ presence, notice, utf8, width: w });
          assert.ok(width(line) <= w, `${JSON.stringify(line)} fits ${w}`);
          assert.match(line, /Ctrl-Alt-C/, `${JSON.stringify(line)} at ${w}`);
        }
});

test('at 80 columns the friend reads the long end keys, the helper\'s name and the keyboard key', () => {
  const line = statusText({ presence: { kind: 'connected', name: 'alex', mayType: true }, notice: null, utf8: true, width: 80 });
  assert.match(line, /End: Ctrl-Alt-C or F12/);
  assert.match(line, /alex may type/);
  assert.match(line, /Ctrl-Alt-K: take the keyboard/);
});

test('the helper\'s status line says how to leave at every width from 20 up, and whether typing is sent from 40 up', () => {
  const views: HelperView[] = [
    { kind: 'live', name: 'sam@laptop', mayType: true },
    { kind: 'live', name: 'sam@laptop', mayType: false },
    { kind: 'gone', name: 'sam@laptop', secondsLeft: 42 },
  ];
  for (const v of views)
    for (const w of WIDTHS) {
      const line = helperStatusText(v, null, true, w);
      assert.ok(width(line) <= w, `${JSON.stringify(line)} fits ${w}`);
      assert.match(line, v.kind === 'gone' ? /Ctrl-C/ : /Enter ~\./, `${JSON.stringify(line)} at ${w}`);
      if (w >= 40 && v.kind === 'live') assert.match(line, v.mayType ? /may type/ : /keyboard|watching/);
      if (w >= 40 && v.kind === 'gone') assert.match(line, /0:42/);
    }
  assert.match(helperStatusText(views[0], null, true, 80), /helping sam@laptop/);
});

test('the ~m line being typed shows its end, where the typing is', () => {
  const line = helperStatusText({ kind: 'prompt', label: MESSAGE_PROMPT, text: `${'a'.repeat(100)}THE-END` }, null, false, 80);
  assert.ok(width(line) <= 80);
  assert.match(line, /^ Message.*THE-END_ $/);
});
