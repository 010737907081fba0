// The helper's side with in-memory streams: escapes, the ~m message line, the keyboard taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { startHelperSession, type HelperEnd } from '../src/session/helper-session';

function side() {
  const input = new PassThrough();
  let shown = '';
  const output = new Writable({ write: (c, _e, cb) => ((shown += c.toString()), cb()) });
  const channel = new PassThrough();
  const sentToShell: string[] = [];
  const shellIn = new Writable({ write: (c, _e, cb) => (sentToShell.push(c.toString()), cb()) });
  const control = new PassThrough();
  const toFriend: Record<string, unknown>[] = [];
  control.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n').filter(Boolean)) toFriend.push(JSON.parse(l));
  });
  // The shell channel: what the helper writes goes to sentToShell; what the shell says is pushed.
  const duplex = Object.assign(channel, { write: shellIn.write.bind(shellIn) }) as unknown as PassThrough;
  const ends: HelperEnd[] = [];
  startHelperSession({ input, output, rules: { windowMs: 0 }, first: { link: 1, conn: { channel: duplex, control } }, onEnd: (e) => ends.push(e) });
  channel.push('$ '); // the shell's first output: keys count from here
  const type = async (text: string | Buffer) => {
    input.write(typeof text === 'string' ? Buffer.from(text) : text);
    await new Promise((r) => setImmediate(r));
  };
  return { type, sentToShell, toFriend, control, ends, shown: () => shown };
}

test('~m sends one line, UTF-8 and backspace included, to the friend and nothing to the shell', async () => {
  const h = side();
  await new Promise((r) => setImmediate(r));
  await h.type('ls\r');
  await h.type('~m');
  await h.type(Buffer.from('café bienx', 'utf8'));
  await h.type('\x7f'); // the x
  await h.type(Buffer.from('ü\x7f', 'utf8')); // a two-byte character typed and taken back
  await h.type('\r');
  assert.deepEqual(h.sentToShell, ['ls\r']);
  assert.deepEqual(h.toFriend.filter((m) => m.t === 'message'), [{ t: 'message', text: 'café bien' }]);
  assert.match(h.shown(), /Sent\. It is on your friend's status line/);
  await h.type('pwd\r');
  assert.deepEqual(h.sentToShell, ['ls\r', 'pwd\r'], 'typing goes to the shell again');
});

test('Esc cancels a message; the keyboard taken by the friend stops the helper\'s keys here too', async () => {
  const h = side();
  await new Promise((r) => setImmediate(r));
  await h.type('~msecret\x1b');
  assert.equal(h.toFriend.filter((m) => m.t === 'message').length, 0);
  h.control.push(JSON.stringify({ t: 'keyboard', allowed: false }) + '\n');
  await new Promise((r) => setImmediate(r));
  await h.type('rm -rf /\r');
  assert.deepEqual(h.sentToShell, []);
  assert.match(h.shown(), /Your friend took the keyboard/);
  await h.type('\r~.');
  assert.deepEqual(h.ends, [{ kind: 'left' }]);
  assert.deepEqual(h.toFriend.at(-1), { t: 'bye' }, 'leaving says goodbye');
});
