// The helper's side with in-memory streams: escapes, the ~m message line, the keyboard taken, and
// the helper's painted screen: the shell's output through a virtual screen, the status line below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { startHelperSession, type HelperEnd } from '../src/session/helper-session';
import { VirtualScreen } from '../src/session/screen';
import { screenText, until } from './harness';

const TERM = { cols: 80, rows: 12 };

function side(o: { windowMs?: number } = {}) {
  const input = new PassThrough();
  let raw = '';
  // What the helper's terminal shows: everything written to it, through a terminal emulator.
  const seen = new VirtualScreen(TERM);
  const output = new Writable({ write: (c, _e, cb) => ((raw += c.toString()), seen.write(c), cb()) });
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
  const session = startHelperSession({
    input,
    terminal: { output, size: () => TERM, utf8: true },
    friendName: 'sam@laptop',
    rules: { windowMs: o.windowMs ?? 0 },
    first: { link: 1, conn: { channel: duplex, control } },
    onEnd: (e) => ends.push(e),
  });
  channel.push('$ '); // the shell's first output: keys count from here
  const type = async (text: string | Buffer) => {
    input.write(typeof text === 'string' ? Buffer.from(text) : text);
    await new Promise((r) => setImmediate(r));
  };
  const screen = () => screenText(seen);
  const status = () => screen().split('\n').at(-1) ?? '';
  const shows = (what: RegExp) => until(`the helper's screen to show ${what}`, () => what.test(screen()), 2000);
  const fromFriend = (msg: object) => control.push(JSON.stringify(msg) + '\n');
  return { session, type, sentToShell, toFriend, control, ends, raw: () => raw, screen, status, shows, channel, fromFriend };
}

test('~m sends one line, UTF-8 and backspace included, to the friend and nothing to the shell; the line is typed on the status line', async () => {
  const h = side();
  await new Promise((r) => setImmediate(r));
  await h.type('ls\r');
  await h.type('~m');
  await h.type(Buffer.from('café bienx', 'utf8'));
  await h.shows(/Message to your friend \(Enter sends, Esc cancels\): café bienx/);
  await h.type('\x7f'); // the x
  await h.type(Buffer.from('ü\x7f', 'utf8')); // a two-byte character typed and taken back
  await h.type('\r');
  assert.deepEqual(h.sentToShell, ['ls\r']);
  assert.deepEqual(h.toFriend.filter((m) => m.t === 'message'), [{ t: 'message', text: 'café bien' }]);
  await h.shows(/Sent\. It is on your friend's status line/);
  assert.doesNotMatch(h.raw(), /\[remote-help\]/, 'nothing is mixed into the shell\'s output');
  await h.type('pwd\r');
  assert.deepEqual(h.sentToShell, ['ls\r', 'pwd\r'], 'typing goes to the shell again');
});

test('Esc cancels a message; the keyboard taken by the friend stops the helper\'s keys here too, and the status line says so', async () => {
  const h = side();
  await new Promise((r) => setImmediate(r));
  await h.shows(/helping sam@laptop │ you may type/);
  await h.type('~msecret\x1b');
  assert.equal(h.toFriend.filter((m) => m.t === 'message').length, 0);
  h.fromFriend({ t: 'keyboard', allowed: false });
  await h.shows(/Your friend took the keyboard/);
  await h.type('rm -rf /\r');
  assert.deepEqual(h.sentToShell, []);
  await h.type('\r~.');
  assert.deepEqual(h.ends, [{ kind: 'left' }]);
  assert.deepEqual(h.toFriend.at(-1), { t: 'bye' }, 'leaving says goodbye');
});

test('the shell\'s output is painted: sequences a compromised machine prints never reach the helper\'s terminal, and it cannot draw over the status line', async () => {
  const h = side();
  h.fromFriend({ t: 'size', cols: 80, rows: 11 });
  h.channel.push('\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1bP$qm\x1b\\\x1b[c\x1b[6n\x1b[2J\x1b[999;1Hfake status line\x1b[1;1Hhello-there');
  await h.shows(/hello-there/);
  await h.shows(/^fake status line/m);
  assert.ok(!/\x1b\]52;|\x1b\]0;|\x1bP\$q|\x1b\[c|\x1b\[6n/.test(h.raw()), 'no clipboard write, title or query reaches the terminal');
  assert.match(h.status(), /helping sam@laptop │ you may type.*Leave: Enter ~\./);
  const rows = h.screen().split('\n');
  assert.equal(rows.length, TERM.rows);
  assert.match(rows[TERM.rows - 2], /^fake status line/, 'the shell\'s last row is the one above the status line');
});

test('a first size that differs from what the output was parsed at asks for a fresh screen; later ones resize only', async () => {
  const h = side();
  h.channel.push('more');
  await h.shows(/\$ more/);
  h.fromFriend({ t: 'size', cols: 60, rows: 8 });
  await until('a redraw asked for', () => h.toFriend.some((m) => m.t === 'redraw'), 2000);
  h.fromFriend({ t: 'size', cols: 50, rows: 8 });
  h.fromFriend({ t: 'bogus' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(h.toFriend.filter((m) => m.t === 'redraw').length, 1);
  await h.type('\r~.');
});

test('~? lists the escapes on the status line; a note from the friend\'s program shows there too', async () => {
  const h = side();
  await new Promise((r) => setImmediate(r));
  await h.type('\r~?');
  await h.shows(/After Enter: ~\. leave ~m message ~s send ~g fetch ~r redraw/);
  h.fromFriend({ t: 'note', text: 'Your link was too slow: \x1b]52;c;eA==\x07 skipped' });
  await h.shows(/Your link was too slow: .* skipped/);
  assert.ok(!h.raw().includes('\x1b]52'));
  await h.type('\r~.');
});
