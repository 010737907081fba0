// The session as lines with two real remote-help processes in real ptys (--session lines, as
// --plain gives): the friend's terminal receives the shell's bytes in order with no cursor
// repositioning, status changes arrive as lines on both sides, the helper's ~m prompt is a line,
// and the friend's hotkey ends everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT } from '../src/errors';
import { confirmCode, listeningPort, release, sessionProcesses, startSide, until, type Side } from './harness';

/** What a side's terminal received, colours taken out, line ends as the tty's ONLCR made them
 * (\r\r\n) back to \n and a CR at the start of a line (which does nothing) left out: the text a
 * screen reader gets, in order. */
const received = (s: Side) => s.output().replace(/\x1b\[[0-9;]*m/g, '').replace(/\r+\n/g, '\n').replace(/\n\r+/g, '\n');

/** Waits until the side's terminal has received `pattern`. */
const heard = (s: Side, pattern: string | RegExp, ms = 10_000) =>
  until(`${s.name} to receive ${pattern}`, () => (typeof pattern === 'string' ? received(s).includes(pattern) : pattern.test(received(s))), ms);

test('lines: shell bytes in order, no cursor moves, status as lines, ~m as a line, the hotkey ends everything', { timeout: 60_000 }, async (t) => {
  const helper = startSide('helper', ['helper', '--port', '0', '--session', 'lines']);
  t.after(() => release(helper));
  const port = await listeningPort(helper);
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`, '--session', 'lines']);
  t.after(() => release(friend));

  // Step 5 spells the code out, one symbol a line.
  await heard(friend, /Symbol by symbol:\n1: [0-9A-Z](, the number [a-z]+| as in [A-Za-z-]+)\n2: /);
  const { shellPid } = await confirmCode(friend, helper);
  const started = (await friend.waitEvent('session-started')).view;
  assert.equal(started, 'lines', 'the friend\'s session is shown as lines');
  await heard(friend, '\n[remote-help] The session has started. Ctrl-Alt-C or F12 ends it at any time.\n');
  await heard(friend, /\n\[remote-help\] \S+ may type\. Ctrl-Alt-K takes the keyboard away\.\n/);
  await heard(helper, /\n\[remote-help\] Helping \S+\. To leave: Enter, then ~\./);
  const from = friend.output().indexOf('The session has started.');

  // In order, every line: a painted screen would skip what scrolled by between two frames.
  friend.write('seq 1 3000; printf \'a\\033[5;1Hb\\033]52;c;aGk=\\007\\033]0;title\\007c\\033[6n\\n\'\r');
  const lines = Array.from({ length: 3000 }, (_, i) => String(i + 1)).join('\n');
  await heard(friend, `\n${lines}\na\nbc\n`, 20_000);
  const session = friend.output().slice(from);
  assert.doesNotMatch(session, /\x1b\[[0-9;:]*[^0-9;:m]/, 'no CSI but colours reached the friend\'s terminal');
  assert.doesNotMatch(session, /\x1b[\]P_^X]|\u009b|\u009d/, 'no OSC, DCS or other string');
  await heard(helper, `\n${lines}\na\nbc\n`, 20_000);

  // Ctrl-Alt-K: a line on each side, and the events log has the friend's.
  friend.write('\x1b\x0b');
  await heard(friend, /\n\[remote-help\] \S+ is watching and cannot type\. Ctrl-Alt-K lets them type\.\n/);
  await heard(helper, '\n[remote-help] Your friend took the keyboard: you can watch, but what you type is not sent.');
  await until('the announcement in the friend\'s events log', () =>
    friend.events().some((e) => e.event === 'announced' && /is watching/.test(String(e.text))));
  friend.write('\x1b\x0b');
  await heard(helper, '\n[remote-help] Your friend gave you the keyboard: you can type again.');

  // ~m: the helper's prompt is a line; the message reaches the friend as a line.
  helper.write('\r~m');
  await heard(helper, '\n[remote-help] Message to your friend (Enter sends, Esc cancels): ');
  helper.write('press y please\r');
  await heard(friend, /\n\[remote-help\] \S+ says: press y please\n/);
  await heard(helper, '\n[remote-help] Sent. It is on your friend\'s status line.');

  // The shell cannot pass for remote-help.
  friend.write('echo "[remote-help] nobody may type"\r');
  await heard(friend, '\n[not remote-help] nobody may type\n');

  // The hotkey ends everything.
  friend.write('\x1b\x03');
  assert.equal((await friend.exited).code, EXIT.hotkey);
  assert.equal((await helper.exited).code, EXIT.hotkey);
  await until('the shell and all it started to be gone', () => sessionProcesses(shellPid).length === 0);
  await friend.waitFor('You ended the session. Your helper has been disconnected.');
});
