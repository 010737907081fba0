// The control channel's lines (src/net/control.ts): what each side accepts, as a table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanText, decodeToFriend, decodeToHelper, LineReader, MAX_LINE } from '../src/net/control';

const toFriend: [string, string, unknown][] = [
  ['a message', '{"t":"message","text":"reboot please"}', { t: 'message', text: 'reboot please' }],
  ['control characters become spaces', '{"t":"message","text":"a\\u001b[2Jb\\u0007c"}', { t: 'message', text: 'a [2Jb c' }],
  ['bidi overrides go too', '{"t":"message","text":"x\\u202ey"}', { t: 'message', text: 'x y' }],
  ['an empty message', '{"t":"message","text":"  \\u0000 "}', 'empty message'],
  ['redraw', '{"t":"redraw"}', { t: 'redraw' }],
  ['bye', '{"t":"bye"}', { t: 'bye' }],
  ['ack', '{"t":"ack","bytes":65536}', { t: 'ack', bytes: 65536 }],
  ['ack, negative', '{"t":"ack","bytes":-1}', /unknown message/],
  ['ack, not whole', '{"t":"ack","bytes":1.5}', /unknown message/],
  ['ack, a string', '{"t":"ack","bytes":"9"}', /unknown message/],
  ['the friend\'s own message type', '{"t":"keyboard","allowed":true}', /unknown message/],
  ['not JSON', 'hello', 'not JSON'],
  ['an array', '[1,2]', 'not an object'],
  ['too long', JSON.stringify({ t: 'message', text: 'x'.repeat(MAX_LINE) }), 'line too long'],
];

for (const [name, line, want] of toFriend) {
  test(`to the friend: ${name}`, () => {
    const d = decodeToFriend(line);
    if (typeof want === 'string' || want instanceof RegExp) {
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.reason, typeof want === 'string' ? new RegExp(want) : want);
    } else assert.deepEqual(d, { ok: true, msg: want });
  });
}

test('to the helper: keyboard and notes', () => {
  assert.deepEqual(decodeToHelper('{"t":"keyboard","allowed":false}'), { ok: true, msg: { t: 'keyboard', allowed: false } });
  assert.deepEqual(decodeToHelper('{"t":"note","text":"hi\\u001b]0;x\\u0007"}'), { ok: true, msg: { t: 'note', text: 'hi ]0;x' } });
  assert.equal(decodeToHelper('{"t":"message","text":"x"}').ok, false);
  assert.equal(decodeToHelper('{"t":"keyboard","allowed":"yes"}').ok, false);
});

test('to the helper: the shared desktop, a loopback port and a VNC password of at most 8 printable characters, or why not', () => {
  assert.deepEqual(decodeToHelper('{"t":"desktop","port":5901,"password":"aB3$x9_Z"}'), { ok: true, msg: { t: 'desktop', port: 5901, password: 'aB3$x9_Z' } });
  assert.deepEqual(decodeToHelper('{"t":"desktop","port":null,"text":"x11vnc ended\\u001b[2J"}'), { ok: true, msg: { t: 'desktop', port: null, text: 'x11vnc ended [2J' } });
  for (const bad of ['{"t":"desktop","port":0,"password":"a"}', '{"t":"desktop","port":70000,"password":"a"}', '{"t":"desktop","port":5901}',
    '{"t":"desktop","port":5901,"password":"123456789"}', '{"t":"desktop","port":5901,"password":"a b"}', '{"t":"desktop","port":"5901","password":"a"}'])
    assert.equal(decodeToHelper(bad).ok, false, bad);
});

test('a message longer than 200 characters is cut with an ellipsis', () => {
  const text = cleanText('ä'.repeat(500));
  assert.equal(Array.from(text).length, 200);
  assert.ok(text.endsWith('…'));
});

test('lines split anywhere come out whole; a line too long is skipped once and reading goes on', () => {
  const lines: string[] = [];
  let tooLong = 0;
  const r = new LineReader((l) => lines.push(l), () => tooLong++);
  const input = Buffer.from('{"a":"é"}\n' + 'x'.repeat(3 * MAX_LINE) + '\n{"b":2}\n');
  for (let i = 0; i < input.length; i += 7) r.push(input.subarray(i, i + 7));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":2}']);
  assert.equal(tooLong, 1);
});
