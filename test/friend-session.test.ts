// The session's rules with in-memory streams and a fake pty: the hotkey, a helper who falls behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable, Duplex } from 'node:stream';
import { startFriendSession, type EndReason } from '../src/session/friend-session';
import type { Pty } from '../src/session/pty';
import { until } from './harness';

function fakePty() {
  const writes: Buffer[] = [];
  let onData: (d: Buffer) => void = () => {};
  const sizes: { cols: number; rows: number }[] = [];
  let killed = false;
  const pty: Pty = {
    pid: 0,
    onData: (cb) => (onData = cb),
    onExit: () => {},
    write: (d) => writes.push(Buffer.from(d)),
    resize: (s) => sizes.push(s),
    kill: () => (killed = true),
  };
  return { pty, writes, sizes, emit: (d: string | Buffer) => onData(Buffer.from(d)), killed: () => killed };
}

/** A helper link that holds what it is given until `drain()` lets it through. */
class SlowHelper extends Duplex {
  received: Buffer[] = [];
  private pending: (() => void)[] = [];
  open = false;
  constructor() {
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
}

function session(helper: Duplex, backlog = 4096) {
  const p = fakePty();
  const friendIn = new PassThrough();
  const friendOut = new Writable({ write: (_c, _e, cb) => cb() });
  const ends: EndReason[] = [];
  const s = startFriendSession({
    pty: p.pty,
    friend: { input: friendIn, output: friendOut, size: () => ({ cols: 80, rows: 25 }), utf8: true },
    helper,
    helperSize: { cols: 100, rows: 30 },
    helperBacklogBytes: backlog,
    onEnd: (r) => ends.push(r),
  });
  return { p, friendIn, ends, s };
}

test('the pty starts at the smaller size of the two terminals', () => {
  const { p } = session(new SlowHelper());
  assert.deepEqual(p.sizes[0], { cols: 80, rows: 25 });
});

test('the friend\'s hotkey kills the pty and ends the session; nothing after it reaches the shell', () => {
  const { p, friendIn, ends } = session(new SlowHelper());
  friendIn.write(Buffer.from('ls\r\x1b\x03rm -rf /\r'));
  assert.deepEqual(ends, ['hotkey']);
  assert.ok(p.killed());
  assert.equal(Buffer.concat(p.writes).toString(), 'ls\r');
});

test('a helper who falls behind gets a note and the newest output, never an unbounded backlog', async () => {
  const helper = new SlowHelper();
  const { p } = session(helper, 4096);
  for (let i = 0; i < 2000; i++) p.emit(`flood line ${i}\r\n`);
  p.emit('PROMPT$ ');
  assert.ok(helper.writableLength < 4096 + 100, `held for the helper: ${helper.writableLength} bytes`);
  helper.drainAll();
  await until('the note and the newest output', () => Buffer.concat(helper.received).toString().endsWith('PROMPT$ '), 2000);
  const seen = Buffer.concat(helper.received).toString();
  assert.match(seen, /output skipped/);
  assert.ok(seen.endsWith('PROMPT$ '), 'the newest output, the prompt, arrives last');
  assert.ok(seen.length < 4096 + 16 * 1024 + 200, `the helper got ${seen.length} bytes, not the whole flood`);
});
