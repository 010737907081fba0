// The session as lines (friend-lines.ts, helper-lines.ts) with a fake pty, in-memory streams and a
// fake clock: the shell's bytes reach the terminal in order, filtered, never repainted; what the
// status line would say arrives as lines of their own when it changes; the hotkey and Ctrl-Alt-K
// work as in the painted session; the helper's prompts are lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { friendLines } from '../src/session/friend-lines';
import { startFriendSession, type EndReason } from '../src/session/friend-session';
import { startHelperLines } from '../src/session/helper-lines';
import type { HelperStatus } from '../src/session/helper-console';
import type { Pty } from '../src/session/pty';
import { fakeClock } from './fake-clock';


/** A channel that keeps what it is sent and can be fed lines. */
class Channel extends Duplex {
  received: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.received.push(chunk);
    cb();
  }
  override _read() {}
}

const tick = () => new Promise((r) => setImmediate(r));

function friendSide() {
  const { clock, advance } = fakeClock();
  const typed: Buffer[] = [];
  let emit: (d: Buffer) => void = () => {};
  let killed = false;
  const pty: Pty = {
    pid: 0, via: 'fake', onData: (cb) => (emit = cb), onExit: () => {}, write: (d) => typed.push(Buffer.from(d)),
    resize: () => {}, pause: () => {}, resume: () => {}, kill: () => (killed = true),
  };
  const input = new PassThrough();
  const written: Buffer[] = [];
  const output = new Writable({ write: (c, _e, cb) => (written.push(Buffer.from(c)), cb()) });
  const ends: EndReason[] = [];
  const events: { name: string; detail: Record<string, unknown> }[] = [];
  const s = startFriendSession({
    friend: { input, output, size: () => ({ cols: 80, rows: 25 }), utf8: true, colour: false },
    console: friendLines,
    helperName: 'alice@laptop',
    helperMayType: true,
    rules: { windowMs: 600_000, firstShellMs: 30_000 },
    start: () => ({ pty, record: null }),
    clock,
    onEnd: (reason) => ends.push(reason),
    onEvent: (name, detail) => events.push({ name, detail }),
  });
  const control = new Channel();
  s.shell(1, { channel: new Channel(), control, size: { cols: 100, rows: 30 } });
  const text = () => Buffer.concat(written).toString();
  return { s, input, text, ends, events, advance, control, shell: (d: string) => emit(Buffer.from(d)), killed: () => killed, typed };
}

test('lines: the shell\'s bytes arrive in order, with no cursor moves; the status arrives as lines', () => {
  const f = friendSide();
  f.shell('$ ls\r\nfile\x1b[1;1Ha\x1b[2Jb\r\n$ ');
  const out = f.text();
  assert.match(out, /^\[remote-help\] The session has started\. Ctrl-Alt-C or F12 ends it at any time\.\r\n\[remote-help\] alice@laptop may type\./);
  assert.ok(out.endsWith('$ ls\r\nfile\r\nab\r\n$ '), `the shell's output in order: ${JSON.stringify(out)}`);
  assert.doesNotMatch(out, /\x1b/, 'nothing but text on a terminal without colours');
  f.s.stop('signal');
});

test('lines: Ctrl-Alt-K is announced on a fresh line, in the events log too, and a second time gives the keyboard back', () => {
  const f = friendSide();
  f.shell('$ ');
  f.input.write('\x1b\x0b');
  assert.ok(f.text().endsWith('$ \r\n[remote-help] alice@laptop is watching and cannot type. Ctrl-Alt-K lets them type.\r\n'), JSON.stringify(f.text()));
  f.input.write('\x1b\x0b');
  assert.ok(f.text().endsWith('[remote-help] alice@laptop may type. Ctrl-Alt-K takes the keyboard away.\r\n'));
  const said = f.events.filter((e) => e.name === 'announced').map((e) => e.detail.text);
  assert.ok(said.includes('alice@laptop is watching and cannot type. Ctrl-Alt-K lets them type.'), 'the events log has it');
  assert.equal(Buffer.concat(f.typed).length, 0, 'Ctrl-Alt-K never reaches the shell');
  f.s.stop('signal');
});

test('lines: a message from the helper is a line; a fake one from the shell is marked', async () => {
  const f = friendSide();
  f.control.push(Buffer.from(JSON.stringify({ t: 'message', text: 'type y please' }) + '\n'));
  await tick();
  f.shell('[remote-help] alice@laptop may type.\r\n');
  const out = f.text();
  assert.match(out, /\[remote-help\] alice@laptop says: type y please\r\n/);
  assert.match(out, /\[not remote-help\] alice@laptop may type\.\r\n$/);
  f.s.stop('signal');
});

test('lines: a dropped link is said with the time left, again once a minute, not every second', () => {
  const f = friendSide();
  f.s.linkDown(1, 'connection reset');
  const count = () => f.text().split('connection dropped').length - 1;
  assert.equal(count(), 1);
  assert.match(f.text(), /alice@laptop's connection dropped; waiting 10:00 for them to come back\./);
  f.advance(30_000);
  assert.equal(count(), 1, 'not every second');
  f.advance(31_000);
  assert.equal(count(), 2, 'again after a minute');
  assert.match(f.text(), /waiting 9:00 for them/);
  f.s.stop('signal');
});

test('lines: the hotkey ends everything, under output, and what follows it never reaches the shell', () => {
  const f = friendSide();
  f.shell('x'.repeat(10_000));
  f.input.write(Buffer.from('ab\x1b\x03cd'));
  assert.deepEqual(f.ends, ['hotkey']);
  assert.equal(f.killed(), true, 'the pty is killed');
  assert.equal(Buffer.concat(f.typed).toString(), 'ab');
  f.shell('late output');
  assert.ok(!f.text().includes('late output'), 'nothing is written after the end');
});

test('lines: the helper\'s prompt is a line, typing is echoed, output breaks it and it is shown again', async () => {
  const { clock, advance } = fakeClock();
  const written: Buffer[] = [];
  let status: HelperStatus = { view: { kind: 'live', name: 'bob@box', mayType: true }, files: null };
  const c = startHelperLines({
    terminal: { output: new Writable({ write: (x, _e, cb) => (written.push(Buffer.from(x)), cb()) }), size: () => ({ cols: 80, rows: 25 }), utf8: true, colour: false },
    clock,
    status: () => status,
  });
  const text = () => Buffer.concat(written).toString();
  await tick();
  assert.equal(text(), '[remote-help] Helping bob@box. To leave: Enter, then ~.  For help: Enter, then ~?\r\n');
  c.write(Buffer.from('$ '));
  status = { ...status, view: { kind: 'prompt', label: ['Message: '], text: '' } };
  c.dirty();
  assert.ok(text().endsWith('$ \r\n[remote-help] Message: '), JSON.stringify(text()));
  for (const t of ['h', 'hi', 'h', 'hey']) {
    status = { ...status, view: { kind: 'prompt', label: ['Message: '], text: t } };
    c.dirty();
  }
  assert.ok(text().endsWith('[remote-help] Message: hi\b \bey'), JSON.stringify(text()));
  c.write(Buffer.from('output\r\n'));
  advance(300);
  assert.ok(text().endsWith('hi\b \bey\r\noutput\r\n[remote-help] Message: hey'), JSON.stringify(text()));
  status = { ...status, view: { kind: 'live', name: 'bob@box', mayType: true } };
  c.say('Sent. It is on your friend\'s status line.');
  c.dirty();
  assert.ok(text().endsWith('Message: hey\r\n[remote-help] Sent. It is on your friend\'s status line.\r\n'), JSON.stringify(text()));
  c.stop();
});
