// Reading remote-help by ear and by braille: the code spelled out one symbol a line in the line
// mode's step 5, and when the session is shown as lines without being asked (a console screen
// reader: speakup loaded or brltty running, on a virtual console), with a fake /sys and /proc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spellCode } from '../src/net/sas';
import { formatPlain } from '../src/screens/plain';
import { screenFor } from '../src/screens/view';
import { initialState, type WizardState } from '../src/screens/wizard';
import { consoleScreenReader, isVirtualConsole, sessionView, type Places } from '../src/app/screen-reader';
import { tempDir } from './harness';

test('the code spelled out: a letter as in its word, a digit as its number', () => {
  assert.deepEqual(spellCode('K7xA0'), ['1: K as in Kilo', '2: 7, the number seven', '3: X as in X-ray', '4: A as in Alfa', '5: 0, the number zero']);
});

test('the friend\'s step 5 in line mode: each symbol on a line of its own, right after the code in words', () => {
  const s: WizardState = { ...initialState({ role: 'friend' }), step: 5, code: 'Q7CED', peer: { user: 'alex', host: 'laptop' } };
  const text = formatPlain(screenFor(s, { addresses: [], listeningPort: null, now: 0 }), false);
  assert.match(text, /Read this code aloud: {3}Q 7 C E D\nIn words: {3}Quebec {2}Seven {2}Charlie {2}Echo {2}Delta\nSymbol by symbol:\n1: Q as in Quebec\n2: 7, the number seven\n3: C as in Charlie\n4: E as in Echo\n5: D as in Delta\n\nWhen your helper says/);
  const helper: WizardState = { ...s, role: 'helper' };
  assert.doesNotMatch(formatPlain(screenFor(helper, { addresses: [], listeningPort: null }), false), /Symbol by symbol/, 'the helper types the code: nothing to spell');
});

/** A fake /sys and /proc: `speakup` loaded or not, these processes, this terminal. */
function places(o: { speakup?: boolean; processes?: string[]; tty: string | null }): Places {
  const root = tempDir();
  const sys = path.join(root, 'sys');
  const proc = path.join(root, 'proc');
  fs.mkdirSync(path.join(sys, 'module', 'psmouse'), { recursive: true });
  if (o.speakup) fs.mkdirSync(path.join(sys, 'module', 'speakup'));
  for (const [i, name] of (o.processes ?? ['systemd', 'bash']).entries()) {
    fs.mkdirSync(path.join(proc, String(100 + i)), { recursive: true });
    fs.writeFileSync(path.join(proc, String(100 + i), 'comm'), `${name}\n`);
  }
  fs.mkdirSync(path.join(proc, 'self'));
  return { sys, proc, tty: () => o.tty };
}

test('screen reader: speakup loaded, or brltty running, on a virtual console', () => {
  assert.equal(consoleScreenReader(places({ speakup: true, tty: '/dev/tty1' })), 'speakup');
  assert.equal(consoleScreenReader(places({ processes: ['systemd', 'brltty', 'bash'], tty: '/dev/tty3' })), 'brltty');
  assert.equal(consoleScreenReader(places({ tty: '/dev/tty1' })), null, 'neither');
  assert.equal(consoleScreenReader(places({ processes: ['brltty-udev'], tty: '/dev/tty1' })), null, 'only brltty itself counts');
  assert.equal(consoleScreenReader(places({ speakup: true, processes: ['brltty'], tty: '/dev/pts/4' })), null, 'not on a terminal window or ssh: they read the console only');
});

test('virtual consoles: /dev/ttyN and /dev/console, not ptys or serial lines', () => {
  for (const tty of ['/dev/tty1', '/dev/tty12', '/dev/console']) assert.equal(isVirtualConsole(tty), true, tty);
  for (const tty of ['/dev/pts/0', '/dev/ttyS0', '/dev/ttyUSB0', null]) assert.equal(isVirtualConsole(tty), false, String(tty));
});

test('session view: --session wins; --plain is lines; else lines only with a screen reader', () => {
  const reader = places({ speakup: true, tty: '/dev/tty1' });
  const none = places({ tty: '/dev/tty1' });
  assert.deepEqual(sessionView('screen', true, reader), { view: 'screen', reader: null }, '--session screen turns it off');
  assert.deepEqual(sessionView('lines', false, none), { view: 'lines', reader: null });
  assert.deepEqual(sessionView(undefined, true, none), { view: 'lines', reader: null });
  assert.deepEqual(sessionView(undefined, false, reader), { view: 'lines', reader: 'speakup' });
  assert.deepEqual(sessionView(undefined, false, none), { view: 'screen', reader: null });
});
