// The session's rules with in-memory streams, a fake pty and a fake clock: size negotiation, the
// hotkey, the friend's consent to typing, a helper who falls behind (bounded backlog, then a
// fresh screen), the reconnect window, and the helper's message on the status line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable, Duplex } from 'node:stream';
import { startFriendSession, type EndReason, type SessionRecord } from '../src/session/friend-session';
import type { Pty } from '../src/session/pty';
import { fakeClock } from './fake-clock';
import { VirtualScreen } from '../src/session/screen';
import { screenText, until } from './harness';

function fakePty() {
  const writes: Buffer[] = [];
  let onData: (d: Buffer) => void = () => {};
  const sizes: { cols: number; rows: number }[] = [];
  let killed = false;
  let paused = false;
  const pty: Pty = {
    pid: 0,
    via: 'fake',
    onData: (cb) => (onData = cb),
    onExit: () => {},
    write: (d) => writes.push(Buffer.from(d)),
    resize: (s) => sizes.push(s),
    pause: () => (paused = true),
    resume: () => (paused = false),
    kill: () => (killed = true),
  };
  return { pty, writes, sizes, typed: () => Buffer.concat(writes).toString('latin1'), emit: (d: string | Buffer) => onData(Buffer.from(d)), killed: () => killed, paused: () => paused };
}


/** A helper's shell channel that holds what it is given until `drainAll()` lets it through. */
class HelperChannel extends Duplex {
  received: Buffer[] = [];
  private pending: (() => void)[] = [];
  constructor(public open = true) {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    if (this.open) {
      this.received.push(chunk);
      cb();
    } else this.pending.push(() => (this.received.push(chunk), cb()));
  }
  override _read() {}
  drainAll() {
    this.open = true;
    for (const p of this.pending.splice(0)) p();
  }
  text() {
    return Buffer.concat(this.received).toString();
  }
  type(s: string) {
    this.push(Buffer.from(s));
  }
}

/** The control channel: what the friend's side sent as parsed lines; `say` sends it one. */
class ControlChannel extends Duplex {
  lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    for (const l of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(l));
    cb();
  }
  override _read() {}
  say(msg: unknown) {
    this.push(Buffer.from(JSON.stringify(msg) + '\n'));
  }
}

const flushIO = () => new Promise((r) => setImmediate(r));

function session(o: { backlog?: number; mayType?: boolean; windowMs?: number; friend?: { cols: number; rows: number } } = {}) {
  const p = fakePty();
  const { clock, advance } = fakeClock();
  const friendIn = new PassThrough();
  let friendSize = o.friend ?? { cols: 80, rows: 25 };
  const friendScreen = new VirtualScreen(friendSize);
  const friendOut = new Writable({ write: (c, _e, cb) => (friendScreen.write(c), cb()) });
  const ends: { reason: EndReason; detail: string }[] = [];
  const events: { name: string; detail: Record<string, unknown> }[] = [];
  const marks: string[] = [];
  const helperTyped: string[] = [];
  const record: SessionRecord = {
    output: () => {},
    helperInput: (d) => helperTyped.push(Buffer.from(d).toString()),
    resize: () => {},
    marker: (m) => marks.push(m),
  };
  const s = startFriendSession({
    friend: { input: friendIn, output: friendOut, size: () => friendSize, utf8: true },
    helperName: 'alice@laptop',
    helperMayType: o.mayType ?? true,
    rules: { windowMs: o.windowMs ?? 600_000, firstShellMs: 30_000 },
    start: () => ({ pty: p.pty, record }),
    helperBacklogBytes: o.backlog ?? 4096,
    clock,
    onEnd: (reason, detail) => ends.push({ reason, detail }),
    onEvent: (name, detail) => events.push({ name, detail }),
  });
  /** Each join is a new link, numbered as the link supervisor would. */
  let link = 0;
  const join = (size = { cols: 100, rows: 30 }, open = true) => {
    const channel = new HelperChannel(open);
    const control = new ControlChannel();
    s.shell(++link, { channel, control, size });
    return { channel, control };
  };
  /** The current link's connection closes. */
  const lose = (error: string | null) => s.linkDown(link, error);
  const statusLine = async () => {
    await flushIO();
    await new Promise((r) => setTimeout(r, 40)); // one painter frame
    return screenText(friendScreen).split('\n').at(-1) ?? '';
  };
  const resizeFriend = (size: { cols: number; rows: number }) => {
    friendSize = size;
    friendScreen.resize(size);
    s.friendResized();
  };
  return { p, s, friendIn, ends, events, marks, helperTyped, advance, join, lose, statusLine, resizeFriend, nextLink: () => ++link };
}

const CTRL_ALT_K = '\x1b\x0b';
const SNAPSHOT_START = '\x1b[0m\x1b[H\x1b[2J';

test('size: the smaller terminal on each axis, less the friend\'s status line; alone while the helper is gone', () => {
  const { p, s, join, lose, resizeFriend } = session();
  assert.equal(p.sizes.length, 0, 'no pty before the helper\'s shell opens');
  const { control } = join({ cols: 100, rows: 30 });
  assert.deepEqual(p.sizes.at(-1), { cols: 80, rows: 24 }, 'the friend\'s terminal less the status line: the smaller');
  const told = () => control.lines.filter((l) => l.t === 'size').at(-1);
  assert.deepEqual(told(), { t: 'size', cols: 80, rows: 24 }, 'the helper\'s program is told the pty\'s size');
  s.helperResized(1, { cols: 70, rows: 20 });
  assert.deepEqual(p.sizes.at(-1), { cols: 70, rows: 20 });
  assert.deepEqual(told(), { t: 'size', cols: 70, rows: 20 });
  resizeFriend({ cols: 60, rows: 40 });
  assert.deepEqual(p.sizes.at(-1), { cols: 60, rows: 20 });
  lose('connection reset');
  assert.deepEqual(p.sizes.at(-1), { cols: 60, rows: 39 }, 'the helper is gone: the friend\'s size alone');
  s.stop('signal');
});

test('the friend\'s hotkey kills the pty and ends the session; nothing after it reaches the shell', () => {
  const { p, friendIn, ends, join } = session();
  join();
  friendIn.write(Buffer.from('ls\r\x1b\x03rm -rf /\r'));
  assert.deepEqual(ends.map((e) => e.reason), ['hotkey']);
  assert.ok(p.killed());
  assert.equal(p.typed(), 'ls\r');
});

test('consent: Ctrl-Alt-K takes the keyboard from the helper and gives it back', async () => {
  const { p, friendIn, join, helperTyped, marks, advance, statusLine, s } = session();
  const { channel, control } = join();
  assert.deepEqual(control.lines.filter((l) => l.t === 'keyboard').at(-1), { t: 'keyboard', allowed: true });
  assert.match(await statusLine(), /alice@laptop (is helping and )?may type/);
  channel.type('echo one\r');
  await flushIO();
  assert.equal(p.typed(), 'echo one\r');
  assert.deepEqual(helperTyped, ['echo one\r'], 'what the helper types is recorded as theirs');

  friendIn.write(Buffer.from(`a${CTRL_ALT_K}b`));
  assert.equal(p.typed(), 'echo one\rab', 'the friend\'s own keys go on; the toggle key does not reach the shell');
  assert.deepEqual(control.lines.filter((l) => l.t === 'keyboard').at(-1), { t: 'keyboard', allowed: false });
  assert.match(await statusLine(), /alice@laptop is watching/);
  channel.type('rm -rf ~\r');
  channel.type('more\r');
  await flushIO();
  assert.equal(p.typed(), 'echo one\rab', 'nothing the helper types reaches the pty');
  assert.deepEqual(helperTyped, ['echo one\r'], 'dropped keys are not recorded as typed');
  const notes = control.lines.filter((l) => l.t === 'note');
  assert.equal(notes.length, 1, 'the helper is told why, once for a burst');
  assert.match(String(notes[0].text), /friend has the keyboard/);
  advance(5000);
  channel.type('x');
  await flushIO();
  assert.equal(control.lines.filter((l) => l.t === 'note').length, 2, 'and again after a while');

  const before = channel.text().length;
  friendIn.write(Buffer.from(CTRL_ALT_K));
  assert.deepEqual(control.lines.filter((l) => l.t === 'keyboard').at(-1), { t: 'keyboard', allowed: true });
  assert.equal(channel.text().slice(before), '', 'given back: nothing to paint over (notes are on the helper\'s status line)');
  channel.type('echo two\r');
  await flushIO();
  assert.equal(p.typed(), 'echo one\rabecho two\r');
  assert.deepEqual(marks.filter((m) => m.startsWith('keyboard')), ['keyboard taken by the friend', 'keyboard given to the helper']);
  s.stop('signal');
});

test('consent: a session started view-only drops the helper\'s keys from the first one', async () => {
  const { p, join, marks, s } = session({ mayType: false });
  const { channel, control } = join();
  assert.deepEqual(control.lines.find((l) => l.t === 'keyboard'), { t: 'keyboard', allowed: false });
  channel.type('id\r');
  await flushIO();
  assert.equal(p.typed(), '');
  assert.ok(marks.includes('helper may not type (view only)'));
  s.stop('signal');
});

test('a helper who falls behind: bounded backlog, then a fresh screen once its program has received what was sent', async () => {
  const { p, join, advance, events, s } = session({ backlog: 4096 });
  const { channel, control } = join({ cols: 100, rows: 30 }, false);
  const start = channel.writableLength;
  for (let i = 0; i < 5000; i++) p.emit(`flood line ${i}\r\n`);
  p.emit('PROMPT$ ');
  assert.ok(channel.writableLength - start < 4096 + 100, `held for the helper: ${channel.writableLength} bytes`);
  advance(1000);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 0, 'no fresh screen while the link is stuck');
  channel.drainAll();
  advance(100);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 0, 'read by SSH is not yet received by the helper');
  control.say({ t: 'ack', bytes: Buffer.byteLength(channel.text()) }); // the helper's program got it all
  await flushIO();
  advance(100);
  await until('the fresh screen', () => channel.text().includes('PROMPT$'), 2000);
  const seen = channel.text();
  const fresh = seen.lastIndexOf(SNAPSHOT_START);
  assert.ok(fresh > 0, 'a fresh copy of the screen follows what was held');
  assert.match(seen.slice(fresh), /flood line 4999/);
  assert.ok(seen.length < 4096 + 16 * 1024, `the helper got ${seen.length} bytes, not the ${5000 * 16} of the flood`);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 1);
  assert.match(String(control.lines.find((l) => l.t === 'note')?.text), /Too slow a link/);
  p.emit('after\r\n');
  assert.ok(channel.text().endsWith('after\r\n'), 'then the live output again');
  s.stop('signal');
});

test('reconnect: the shell goes on, the status line counts down, a helper back in time gets the screen first', async () => {
  const { p, s, join, lose, ends, marks, events, advance, statusLine } = session({ windowMs: 600_000 });
  const first = join();
  p.emit('before the drop\r\n');
  lose('connection reset');
  assert.equal(ends.length, 0, 'the session goes on');
  assert.equal(s.state.kind, 'gone');
  assert.match(await statusLine(), /alice@laptop's connection dropped; waiting 10:00/);
  advance(61_000);
  assert.match(await statusLine(), /waiting 8:59/);
  first.channel.type('late keys\r');
  p.emit('while gone\r\n');
  await flushIO();
  assert.equal(p.typed(), '', 'the old link is dead: nothing it sends reaches the shell');

  const again = join({ cols: 90, rows: 28 });
  assert.equal(s.state.kind, 'live');
  const got = again.channel.text();
  assert.ok(got.startsWith(SNAPSHOT_START), 'the current screen first');
  assert.match(got, /before the drop/);
  assert.match(got, /while gone/);
  p.emit('live\r\n');
  assert.ok(again.channel.text().endsWith('live\r\n'), 'then the live session');
  assert.match(await statusLine(), /alice@laptop is back/);
  assert.deepEqual(p.sizes.at(-1), { cols: 80, rows: 24 });
  assert.ok(marks.includes('helper disconnected: connection reset'));
  assert.ok(marks.includes('helper reconnected: alice@laptop'));
  assert.deepEqual(events.filter((e) => e.name.startsWith('helper-')).map((e) => e.name), ['helper-joined', 'helper-lost', 'helper-back']);
  s.stop('signal');
});

test('reconnect: the window closes and the session ends; with no window it ends at once', () => {
  const a = session({ windowMs: 600_000 });
  a.join();
  a.lose(null);
  a.advance(599_000);
  assert.equal(a.ends.length, 0);
  a.advance(1000);
  assert.deepEqual(a.ends.map((e) => e.reason), ['connection-lost']);
  assert.ok(a.p.killed());

  const b = session({ windowMs: 0 });
  b.join();
  b.lose('timed out');
  assert.deepEqual(b.ends.map((e) => e.reason), ['connection-lost']);
});

test('a helper who says goodbye is not waited for', async () => {
  const a = session();
  const { control } = a.join();
  control.say({ t: 'bye' });
  await flushIO();
  a.lose(null);
  assert.deepEqual(a.ends.map((e) => e.reason), ['helper-left']);

  const b = session();
  const { channel } = b.join();
  channel.push(null); // EOF on the shell channel: ~. from a client without the control channel
  channel.resume();
  await flushIO();
  b.lose(null);
  assert.deepEqual(b.ends.map((e) => e.reason), ['helper-left']);
});

test('the helper\'s message is shown on the status line, cleaned of control characters, and recorded', async () => {
  const { join, statusLine, marks, advance, s, events } = session({ friend: { cols: 100, rows: 25 } });
  const { control } = join();
  control.say({ t: 'message', text: 'please type\x1b[2J reboot' });
  control.say({ t: 'nonsense' });
  await flushIO();
  const line = await statusLine();
  assert.match(line, /alice@laptop says: please type \[2J reboot/);
  assert.match(line, /Ctrl-Alt-C/, 'the end keys stay on the line');
  assert.ok(marks.includes('message from the helper: please type [2J reboot'));
  assert.ok(events.some((e) => e.name === 'control-rejected'));
  advance(61_000);
  assert.doesNotMatch(await statusLine(), /says:/, 'the message goes after a minute');
  s.stop('signal');
});

test('size: a helper whose terminal size is 0 (no terminal) leaves the friend\'s size in place', () => {
  const { p, s, join } = session();
  join({ cols: 0, rows: 0 });
  assert.deepEqual(p.sizes.at(-1), { cols: 80, rows: 24 });
  s.helperResized(1, { cols: 0, rows: 20 });
  assert.deepEqual(p.sizes.at(-1), { cols: 80, rows: 20 });
  s.stop('signal');
});

test('a helper asking for fresh screens without reading gets no more than its backlog', async () => {
  const { p, join, advance, s } = session({ backlog: 4096 });
  const { channel, control } = join({ cols: 100, rows: 30 }, false);
  for (let i = 0; i < 30; i++) p.emit(`line ${i} ${'x'.repeat(60)}\r\n`);
  for (let i = 0; i < 2000; i++) control.say({ t: 'redraw' });
  await flushIO();
  assert.ok(channel.writableLength < 4096 + 8192, `held for the helper: ${channel.writableLength} bytes`);
  channel.drainAll();
  control.say({ t: 'ack', bytes: Buffer.byteLength(channel.text()) });
  await flushIO();
  advance(100);
  const screens = channel.text().split(SNAPSHOT_START).length - 1;
  assert.ok(screens >= 1 && screens <= 3, `${screens} fresh screens for 2000 requests`);
  assert.match(channel.text().slice(channel.text().lastIndexOf(SNAPSHOT_START)), /line 29/);
  s.stop('signal');
});

test('without the control channel (another SSH client) the bound is what waits in the channel', async () => {
  const { p, s, advance, events, nextLink } = session({ backlog: 4096 });
  const channel = new HelperChannel(false);
  s.shell(nextLink(), { channel, control: null, size: null });
  for (let i = 0; i < 2000; i++) p.emit(`flood line ${i}\r\n`);
  assert.ok(channel.writableLength < 4096 + 100, `held for the helper: ${channel.writableLength} bytes`);
  channel.drainAll();
  advance(100);
  await until('the fresh screen', () => channel.text().includes('flood line 1999'), 2000);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 1);
  s.stop('signal');
});

test('a helper that takes output fast may run further behind before output is dropped', async () => {
  const { p, join, advance, events, s } = session({ backlog: 64 * 1024 });
  const { channel, control } = join();
  const chunk = 'y\r\n'.repeat(10_000); // 30 KB
  // The helper's program acks all it got every 10 ms: about 3 MB/s, so it may be 750 KB behind.
  for (let i = 0; i < 40; i++) {
    p.emit(chunk);
    control.say({ t: 'ack', bytes: Buffer.byteLength(channel.text()) - (i % 2 ? 0 : 200_000) });
    await flushIO();
    advance(10);
  }
  // Now it lags by 500 KB: far more than the 64 KB backlog, within a quarter second of its rate.
  for (let i = 0; i < 16; i++) p.emit(chunk);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 0, 'nothing was dropped');
  assert.equal(Buffer.byteLength(channel.text()), 56 * chunk.length, 'every byte went to the helper');
  // A helper that stops acking is still bounded: its allowance, then output is dropped.
  for (let i = 0; i < 100; i++) p.emit(chunk);
  assert.ok(Buffer.byteLength(channel.text()) < 56 * chunk.length + 1_000_000, `bounded: ${Buffer.byteLength(channel.text())} bytes sent`);
  assert.equal(events.filter((e) => e.name === 'helper-resync').length, 0, 'no fresh screen until it acks again');
  advance(200);
  s.stop('signal');
});
