import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import { grabFrame, drawDiff } from '../src/session/frame';
import { startPainter, frameDelay } from '../src/session/painter';
import { VirtualScreen, type Frame } from '../src/session/screen';
import type { TermSize } from '../src/session/size';

// The core check, as in xterm.js's own screen tests: what we paint, parsed by a second emulator
// the size of the friend's terminal, must show exactly the frame.

function screenWith(size: TermSize, ...chunks: (string | Uint8Array)[]): VirtualScreen {
  const screen = new VirtualScreen(size);
  for (const chunk of chunks) screen.write(chunk);
  return screen;
}

/** The second emulator's whole screen as a frame (a terminal one row taller leaves no room for a
 * status line to hide anything). */
function shownBy(friend: VirtualScreen): Frame {
  const { cols, rows } = friend.size;
  const f = grabFrame(friend, { cols, rows: rows + 1 }, '');
  return { ...f, rows, lines: f.lines.slice(0, rows) };
}

function text(frame: Frame): string[] {
  return frame.lines.map((row) => row.map((c) => (c.width === 0 ? '' : c.ch || ' ')).join('').trimEnd());
}

function assertPaintedEquals(friend: VirtualScreen, frame: Frame): void {
  const shown = shownBy(friend);
  assert.deepEqual(text(shown), text(frame));
  assert.deepEqual(shown.lines, frame.lines);
  assert.deepEqual(shown.cursor, frame.cursor);
  assert.deepEqual(shown.modes, frame.modes);
}

/** A fresh emulator the size of the friend's terminal, fed what the painter wrote. */
const paintInto = (term: TermSize, ...paints: string[]): VirtualScreen => screenWith(term, ...paints);

const TERM = { cols: 20, rows: 6 };
const PTY = { cols: 20, rows: 5 };

const fixtures: { name: string; pty?: TermSize; term?: TermSize; input: string; status?: string }[] = [
  { name: 'plain text', input: 'hello\r\nworld $ ' },
  { name: '16-colour palette', input: '\x1b[31mred\x1b[92mbright\x1b[44mbg\x1b[103mbrightbg\x1b[0m' },
  { name: '256 colours', input: '\x1b[38;5;200mfg\x1b[48;5;17mbg\x1b[0m' },
  { name: 'RGB colours', input: '\x1b[38;2;1;2;3mfg\x1b[48;2;250;128;0mbg\x1b[0m' },
  {
    name: 'attributes',
    input: '\x1b[1mb\x1b[0;2md\x1b[0;3mi\x1b[0;4mu\x1b[0;5mk\x1b[0;7mr\x1b[0;8mh\x1b[0;9ms\x1b[0;53mo\x1b[1;3;4;31;42mall\x1b[0m',
  },
  { name: 'wide characters', input: '漢字 ok\r\nx漢字y' },
  { name: 'wide character cut at the right edge', pty: { cols: 5, rows: 3 }, term: { cols: 4, rows: 4 }, input: 'abc漢' },
  { name: 'coloured erase fills the background', input: 'x\x1b[41m\x1b[K\x1b[0m' },
  { name: 'program writes on the last row and scrolls', input: 'top\x1b[999;1Hxxx\n\n\n' },
  { name: 'program writes the bottom-right cell', input: '\x1b[999;999HZ' },
  { name: 'clear screen', input: 'gone\r\ngone\x1b[2J\x1b[Hkept' },
  { name: 'alternate screen', input: 'shell$ \x1b[?1049h\x1b[Hfull-screen app\x1b[3;4Hx' },
  { name: 'leaving the alternate screen', input: 'shell$ \x1b[?1049h\x1b[Happ\x1b[?1049l' },
  { name: 'hidden cursor and input modes', input: '\x1b[?25l\x1b[?1h\x1b=\x1b[?2004h\x1b[?1002h\x1b[?1006hvim' },
  { name: 'screen smaller than the terminal', pty: { cols: 8, rows: 2 }, input: 'abcdefghij' },
  { name: 'screen larger than the terminal', pty: { cols: 30, rows: 9 }, input: '\x1b[9;1Hbottom\x1b[1;1H' + 'y'.repeat(30) },
  { name: 'status longer than the width', input: 'x', status: 'remote-help: helper connected, press Ctrl-] to end' },
  { name: 'wide status characters', input: 'x', status: '助けて: 漢字漢字漢字漢字漢字漢字' },
  { name: 'status with control characters', input: 'x', status: 'evil\x1b[2J\r\n' },
];

describe('drawDiff(null, frame) painted into a second emulator', () => {
  for (const f of fixtures) {
    it(`shows exactly the frame: ${f.name}`, () => {
      const term = f.term ?? TERM;
      const status = f.status ?? 'remote-help: helper connected';
      const frame = grabFrame(screenWith(f.pty ?? PTY, f.input), term, status);
      const friend = paintInto(term, drawDiff(null, frame, true));
      assertPaintedEquals(friend, frame);
      // The status line is the last row, in reverse video, whatever the program did.
      const last = shownBy(friend).lines[term.rows - 1];
      assert.ok(last.every((c) => c.sgr === '7'));
    });
  }

  it('keeps the status line when a program scrolls the friend terminal hard', () => {
    const frame = grabFrame(screenWith(PTY, 'a\r\n'.repeat(50) + '\x1b[999;999H\x1b[?7l' + 'z'.repeat(40)), TERM, 'STATUS');
    const shown = shownBy(paintInto(TERM, drawDiff(null, frame, true)));
    assert.equal(text(shown)[TERM.rows - 1], 'STATUS');
  });

  it('writes the bottom-right cell only with autowrap off, so a real terminal cannot scroll', () => {
    const bytes = drawDiff(null, grabFrame(screenWith(PTY, 'x'), TERM, 'status'), true);
    const corner = bytes.indexOf(`\x1b[${TERM.rows};1H`);
    assert.ok(bytes.lastIndexOf('\x1b[?7l', corner) >= 0 && bytes.indexOf('\x1b[?7h', corner) > corner);
  });

  it('replaces non-ASCII with ? and writes no byte >= 0x80 when the terminal is not UTF-8', () => {
    const frame = grabFrame(screenWith(PTY, 'café 漢字 ü'), TERM, 'état ✓');
    const bytes = Buffer.from(drawDiff(null, frame, false), 'utf8');
    assert.ok(bytes.every((b) => b < 0x80));
    const shown = text(shownBy(paintInto(TERM, bytes.toString('latin1'))));
    assert.equal(shown[0], 'caf? ? ?  ?'); // a wide character keeps its two columns
    assert.equal(shown[TERM.rows - 1], '?tat ?');
  });
});

describe('drawDiff(prev, next)', () => {
  it('after a one-character change writes far fewer bytes and lands on next', () => {
    const term = { cols: 80, rows: 24 };
    const screen = screenWith({ cols: 80, rows: 23 }, '\x1b[32m' + 'a line of program output\r\n'.repeat(22) + '\x1b[0m$ ');
    const before = grabFrame(screen, term, 'status');
    screen.write('l');
    const after = grabFrame(screen, term, 'status');
    const full = drawDiff(null, before, true);
    const diff = drawDiff(before, after, true);
    assert.ok(diff.length * 20 < full.length, `diff ${JSON.stringify(diff)} vs full ${full.length} bytes`);
    assertPaintedEquals(paintInto(term, full, diff), after);
  });

  it('is empty when nothing changed', () => {
    const frame = grabFrame(screenWith(PTY, 'same'), TERM, 's');
    assert.equal(drawDiff(frame, frame, true), '');
  });

  const steps: { name: string; first: string; then: string }[] = [
    { name: 'a wide character replaced by narrow ones', first: 'a漢b', then: '\x1b[1;2Hxy' },
    { name: 'narrow characters replaced by a wide one', first: 'abcd', then: '\x1b[1;2H字' },
    { name: 'a line erased', first: 'abc\r\ndef', then: '\x1b[1;1H\x1b[2K' },
    { name: 'colours changed in the middle', first: 'abcdef', then: '\x1b[1;3H\x1b[45mCD\x1b[0m' },
    { name: 'modes switched on then off', first: '\x1b[?1h\x1b[?1003h\x1b[?1006h\x1b[?25l', then: '\x1b[?1l\x1b[?1003l\x1b[?1000h\x1b[?25h' },
    { name: 'alternate screen entered', first: 'shell', then: '\x1b[?1049h\x1b[Hvim' },
  ];
  for (const s of steps) {
    it(`full + diff equals next: ${s.name}`, () => {
      const screen = screenWith(PTY, s.first);
      const before = grabFrame(screen, TERM, 'status one');
      screen.write(s.then);
      const after = grabFrame(screen, TERM, 'status two');
      assertPaintedEquals(paintInto(TERM, drawDiff(null, before, true), drawDiff(before, after, true)), after);
    });
  }

  it('redraws everything when the terminal size changed', () => {
    const screen = screenWith(PTY, 'abc');
    const before = grabFrame(screen, TERM, 's');
    const bigger = { cols: 30, rows: 8 };
    const after = grabFrame(screen, bigger, 's');
    assert.ok(drawDiff(before, after, true).startsWith('\x1b[0m\x1b[H\x1b[2J'));
    assertPaintedEquals(paintInto(bigger, drawDiff(before, after, true)), after);
  });
});

describe('VirtualScreen', () => {
  it('parses synchronously: the text is in the buffer when write returns', () => {
    const screen = new VirtualScreen(PTY);
    screen.write('now');
    screen.write(Buffer.from(' and bytes'));
    assert.equal(screen.line(0)?.translateToString(true), 'now and bytes');
  });

  it('keeps a UTF-8 character split across writes', () => {
    const bytes = Buffer.from('漢');
    const screen = screenWith(PTY, bytes.subarray(0, 1), bytes.subarray(1));
    assert.equal(screen.line(0)?.translateToString(true), '漢');
  });

  const snapshots: { name: string; input: string }[] = [
    { name: 'text and colours', input: 'a\r\n\x1b[31mred\x1b[0m\r\n\x1b[3;5H' },
    { name: 'application cursor keys and bracketed paste', input: '\x1b[?1h\x1b[?2004hx\x1b[2;2H' },
    { name: 'keypad, mouse and hidden cursor', input: '\x1b=\x1b[?1002h\x1b[?1006h\x1b[?25lmenu' },
    { name: 'alternate screen', input: 'shell$ \x1b[?1049h\x1b[Happ\x1b[4;3H' },
    { name: 'scroll region', input: 'top\x1b[2;4r\x1b[3;2Hin' },
    { name: 'cursor after the last column', input: 'x'.repeat(PTY.cols) },
  ];
  for (const s of snapshots) {
    it(`snapshot reproduces the screen on a fresh one: ${s.name}`, () => {
      const a = screenWith(PTY, s.input);
      const snapshot = a.snapshot();
      assert.ok(snapshot.startsWith('\x1b[0m\x1b[H\x1b[2J'));
      const b = screenWith(PTY, snapshot);
      const frameA = grabFrame(a, TERM, '');
      assertPaintedEquals(b, { ...frameA, rows: PTY.rows, lines: frameA.lines.slice(0, PTY.rows) });
    });
  }

  it('snapshot keeps the scroll region for what the program prints next', () => {
    const a = screenWith(PTY, '1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[4;1H');
    const b = screenWith(PTY, a.snapshot());
    a.write('\nnew');
    b.write('\nnew');
    assert.deepEqual(text(shownBy(b)), text(shownBy(a)));
  });
});

class FakeTerminal extends Writable {
  frames: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.frames.push(chunk.toString());
    done();
  }
}

describe('startPainter', () => {
  function setup(minFrameMs?: number) {
    const screen = new VirtualScreen(PTY);
    const output = new FakeTerminal();
    const painter = startPainter({ screen, output, termSize: () => TERM, status: () => 'status', utf8: true, minFrameMs });
    return { screen, output, painter };
  }

  it('paints a flood of output in a few frames and ends on the final screen', async () => {
    const { screen, output, painter } = setup();
    const kb = 'x'.repeat(1000) + '\r\n';
    for (let i = 0; i < 10_000; i++) {
      screen.write(`${i} ${kb}`);
      painter.dirty();
    }
    await sleep(100);
    assert.ok(output.frames.length <= 3, `${output.frames.length} frames`);
    assertPaintedEquals(paintInto(TERM, ...output.frames), grabFrame(screen, TERM, 'status'));
    painter.stop();
  });

  it('paints one echoed keystroke on the next tick after idle', async () => {
    const { screen, output, painter } = setup(50);
    painter.dirty();
    await nextTick();
    await sleep(60); // idle for longer than a frame interval
    const before = output.frames.length;
    screen.write('k');
    painter.dirty();
    await nextTick();
    assert.equal(output.frames.length, before + 1);
    assert.equal(text(shownBy(paintInto(TERM, ...output.frames)))[0], 'k');
    painter.stop();
  });

  it('with smallBytes, an echo right after a frame is painted at once; a flood still waits for the interval', async () => {
    const screen = new VirtualScreen(PTY);
    const output = new FakeTerminal();
    const painter = startPainter({ screen, output, termSize: () => TERM, status: () => 'status', utf8: true, minFrameMs: 200, smallBytes: 256 });
    screen.write('a');
    painter.dirty(1);
    await nextTick();
    const first = output.frames.length;
    screen.write('b'); // right after the last frame: without smallBytes this would wait 200 ms
    painter.dirty(1);
    await nextTick();
    assert.equal(output.frames.length, first + 1, 'the echo is painted on the next tick');
    const flood = 'y'.repeat(2000);
    screen.write(flood);
    painter.dirty(flood.length);
    await nextTick();
    await sleep(20);
    assert.equal(output.frames.length, first + 1, 'a flood waits for the frame interval');
    await sleep(250);
    assert.equal(output.frames.length, first + 2);
    painter.stop();
  });

  it('waits for a backed-up stream to drain', async () => {
    const { screen, output, painter } = setup();
    let release!: () => void;
    output._write = (chunk, _enc, done) => {
      output.frames.push(chunk.toString());
      release = done; // never completes until released
    };
    output.write('x'.repeat(output.writableHighWaterMark)); // fill it
    screen.write('a');
    painter.dirty();
    await sleep(50);
    assert.equal(output.frames.length, 1);
    output._write = (chunk, _enc, done) => {
      output.frames.push(chunk.toString());
      done();
    };
    release();
    await sleep(50);
    assert.equal(output.frames.length, 2);
    painter.stop();
  });

  it('invalidate repaints everything; stop hands the terminal back', () => {
    const { screen, output, painter } = setup();
    screen.write('\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?25lapp');
    painter.paintNow();
    painter.invalidate();
    painter.paintNow();
    assert.ok(output.frames[1].startsWith('\x1b[0m\x1b[H\x1b[2J'));
    painter.stop();
    const friend = paintInto(TERM, ...output.frames);
    const shown = shownBy(friend);
    assert.equal(text(shown)[0], 'app');
    assert.equal(text(shown)[TERM.rows - 1], '');
    assert.deepEqual(shown.cursor, { x: 0, y: TERM.rows - 1, visible: true });
    assert.deepEqual(shown.modes, { appCursorKeys: false, appKeypad: false, bracketedPaste: false, mouseTracking: 'none', mouseEncoding: 'default' });
  });

  it('waits longer after a slow write', () => {
    assert.equal(frameDelay(1000, 0, 0, 30), 0);
    assert.equal(frameDelay(10, 0, 0, 30), 20);
    assert.equal(frameDelay(10, 0, 100, 30), 390);
  });
});
