// The line session's filter of the shell's output (src/session/plain-filter.ts): what it lets
// through, as rows of a table, and its output read by a real terminal emulator (@xterm/headless)
// that counts what a compromised machine would want from the friend's terminal: replies to
// queries, titles, clipboard writes, cursor moves. Every input is also fed split at every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Terminal } from '@xterm/headless';
import { PlainFilter } from '../src/session/plain-filter';

const filter = (o: { utf8?: boolean; colour?: boolean } = {}) => new PlainFilter({ utf8: o.utf8 ?? true, colour: o.colour ?? true });

/** The filter's output for `input`, whole and split at every byte (which must agree). */
function through(input: string | Buffer, o: { utf8?: boolean; colour?: boolean } = {}): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const whole = filter(o);
  const out = Buffer.concat([whole.push(bytes), whole.flush()]).toString('latin1');
  for (let i = 1; i < bytes.length; i++) {
    const f = filter(o);
    const split = Buffer.concat([f.push(bytes.subarray(0, i)), f.push(bytes.subarray(i)), f.flush()]).toString('latin1');
    assert.equal(split, out, `split at byte ${i} of ${JSON.stringify(bytes.toString('latin1'))}`);
  }
  return out;
}

const ROWS: [string, string, string][] = [
  ['plain text, CR, LF, BS and TAB', 'ab\bc\td\r\nnext', 'ab\bc\td\r\nnext'],
  ['OSC 52 clipboard write (BEL)', 'a\x1b]52;c;ZWNobyBldmls\x07b', 'ab'],
  ['OSC 52 clipboard write (ST)', 'a\x1b]52;c;ZWNobyBldmls\x1b\\b', 'ab'],
  ['window title (OSC 0, OSC 2)', '\x1b]0;owned\x07\x1b]2;owned\x1b\\ok', 'ok'],
  ['colour query (OSC 11)', '\x1b]11;?\x07ok', 'ok'],
  ['DA and DA2', '\x1b[c\x1b[0c\x1b[>c\x1b[=cok', 'ok'],
  ['DSR and CPR requests', '\x1b[5n\x1b[6n\x1b[?6nok', 'ok'],
  ['DECRQSS and XTGETTCAP (DCS)', '\x1bP$qm\x1b\\\x1bP+q544e\x1b\\ok', 'ok'],
  ['window reports (CSI t)', '\x1b[21t\x1b[14t\x1b[8;1;1tok', 'ok'],
  ['APC, PM and SOS strings', '\x1b_x\x1b\\\x1b^y\x1b\\\x1bXz\x1b\\ok', 'ok'],
  ['DECRQM and modes (mouse, alternate screen)', '\x1b[?1000h\x1b[?1049h\x1b[2$p\x1b[4hok', 'ok'],
  ['C1 controls as UTF-8 (CSI, OSC)', 'a\u009b6n\u009d0;x\u0007b', 'ab'],
  ['letters whose UTF-8 holds 0x83 and 0x9b', 'ă é ț', Buffer.from('ă é ț').toString('latin1')],
  ['BEL, SO, SI, DEL dropped', 'a\x07\x0e\x0f\x7fb', 'ab'],
  ['charset switch (ESC ( 0) dropped', '\x1b(0q\x1b(Bq', 'qq'],
  ['colours kept', '\x1b[1;31mred\x1b[0m \x1b[38;5;208mo\x1b[38;2;1;2;3mt\x1b[m', '\x1b[1;31mred\x1b[0m \x1b[38;5;208mo\x1b[38;2;1;2;3mt\x1b[m'],
  ['reverse video and conceal taken out', '\x1b[7ma\x1b[8mb\x1b[1;7;32mc', 'ab\x1b[1;32mc'],
  ['a move to another row is a line break', 'a\x1b[5;1Hb\x1b[Ac\x1bMd', 'a\r\nb\r\nc\r\nd'],
  ['no line break where a line has just begun', 'a\r\n\x1b[H\x1b[2Jb', 'a\r\nb'],
  ['CUF is spaces, CUB backspaces, CHA 1 a CR', 'a\x1b[3Cb\x1b[2Dc\x1b[1Gd\x1b[9Ge', 'a   b\b\bc\rde'],
  ['erase, scroll, insert and delete dropped', 'a\x1b[2K\x1b[J\x1b[3X\x1b[2P\x1b[L\x1b[S\x1b[1;5rb', 'ab'],
  ['save and restore cursor, keypad modes dropped', 'a\x1b7\x1b8\x1b=\x1b>b', 'ab'],
  ['an OSC cut short by CAN', 'a\x1b]0;x\x18b', 'ab'],
  ['our prefix in the shell output is marked', '[remote-help] Alex may type\r\n', '[not remote-help] Alex may type\r\n'],
  ['in any case', '[Remote-HELP] x', '[not remote-help] x'],
  ['with colours between its letters', '[remote\x1b[31m-help] x', '[not remote-help]\x1b[0m x'],
  ['a near miss is left as it was', '[remote-hel p] [remote [[remote-help]', '[remote-hel p] [remote [[not remote-help]'],
];

for (const [what, input, expected] of ROWS) {
  test(`filter: ${what}`, () => {
    assert.equal(through(input), expected);
  });
}

test('filter: without colour (TERM=dumb) no SGR passes either', () => {
  assert.equal(through('\x1b[31mred\x1b[0m', { colour: false }), 'red');
});

test('filter: on a terminal that is not UTF-8, 8-bit C1 controls are dropped', () => {
  assert.equal(through(Buffer.from('a\x9b6nb\x9d0;x\x9cc', 'latin1'), { utf8: false }), 'abc');
});

test('filter: an OSC string that never ends stops hiding output after 64 KiB', () => {
  const out = through(Buffer.concat([Buffer.from('\x1b]52;c;'), Buffer.alloc(70 * 1024, 0x41), Buffer.from('\r\nvisible')]).subarray(0, 70 * 1024 + 20));
  assert.ok(out.endsWith('\r\nvisible'), 'what follows the cut is shown');
  assert.ok(out.length < 8 * 1024, 'the string itself was swallowed up to the limit');
});

test('filter: a possible prefix at the end of a chunk waits for the next byte, then is decided', () => {
  const f = filter();
  assert.equal(f.push(Buffer.from('ok [remote-')).toString(), 'ok ');
  assert.equal(f.push(Buffer.from('help] x')).toString(), '[not remote-help] x');
  assert.equal(f.push(Buffer.from('[rem')).toString(), '');
  assert.equal(f.push(Buffer.from('ote!')).toString(), '[remote!');
  assert.equal(f.push(Buffer.from('[')).toString(), '');
  assert.equal(f.flush().toString(), '[', 'flush writes what is held');
});

test('filter: atLineStart follows what was written', () => {
  const f = filter();
  assert.equal(f.atLineStart, true);
  f.push(Buffer.from('$ '));
  assert.equal(f.atLineStart, false);
  f.push(Buffer.from('\r\n\x1b[31m'));
  assert.equal(f.atLineStart, true, 'a colour does not move the cursor');
  f.push(Buffer.from('['));
  assert.equal(f.atLineStart, true, 'a held byte is not written yet');
});

/** A real terminal emulator that counts what a compromised machine's output made it do. */
async function fakeTerminal(data: Buffer) {
  const term = new Terminal({ cols: 80, rows: 25, allowProposedApi: true, logLevel: 'off' });
  const seen = { replies: '', titles: 0, clipboard: 0, csi: [] as string[] };
  term.onData((d) => (seen.replies += d));
  term.onTitleChange(() => seen.titles++);
  term.parser.registerOscHandler(52, () => (seen.clipboard++, true));
  for (let f = 0x40; f <= 0x7e; f++) {
    const final = String.fromCharCode(f);
    if (final !== 'm') for (const prefix of [undefined, '?', '>', '=']) {
      term.parser.registerCsiHandler({ final, prefix }, () => (seen.csi.push(`${prefix ?? ''}${final}`), false));
    }
  }
  await new Promise<void>((r) => term.write(data, r));
  const text = term.buffer.active.getLine(0)?.translateToString(true) ?? '';
  term.dispose();
  return { ...seen, text };
}

const HOSTILE = Buffer.from([
  'before',
  '\x1b]52;c;cm0gLXJmIH4K\x07', // clipboard write
  '\x1b]0;a title\x07\x1b]2;another\x1b\\', // titles
  '\x1b[c\x1b[>c\x1b[5n\x1b[6n\x1b[?6n', // DA, DA2, DSR, CPR
  '\x1bP$qm\x1b\\', // DECRQSS
  '\x1b[21t\x1b[?1000h\x1b[2$p', // title report, mouse reporting, DECRQM
  '\u009b6n', // CPR as a UTF-8 C1 control
  '\x1b[1;1H\x1b[2J\x1b[10C\x1b[3A', // cursor moves and erase
  ' after',
].join(''), 'utf8');

test('fake terminal: the raw output asks, titles, writes the clipboard and moves the cursor (the check can fail)', async () => {
  const raw = await fakeTerminal(HOSTILE);
  assert.ok(raw.replies.length > 0, 'the terminal answered queries');
  assert.ok(raw.titles >= 2, 'titles were set');
  assert.equal(raw.clipboard, 1, 'the clipboard was written');
  assert.ok(raw.csi.includes('H') && raw.csi.includes('J'), 'the cursor moved and the screen was erased');
});

test('fake terminal: the filtered output does none of that, and keeps the text in order', async () => {
  const f = filter();
  const out = Buffer.concat([f.push(HOSTILE), f.flush()]);
  const seen = await fakeTerminal(out);
  assert.equal(seen.replies, '', 'no query reached the terminal');
  assert.equal(seen.titles, 0, 'no title');
  assert.equal(seen.clipboard, 0, 'no clipboard write');
  assert.deepEqual(seen.csi, [], 'no CSI sequence but colours');
  assert.equal(out.toString(), `before\r\n${' '.repeat(10)}\r\n after`, 'the text in order; a row move a line break, CUF spaces');
});
