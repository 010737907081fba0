// The friend's virtual screen and the painter that shows it with an unforgeable status line.
//
// Why: the friend must always be able to see that a helper is connected and how to end the
// session. If the pty's bytes went straight to the friend's terminal, any program in the shared
// shell (or the helper typing `printf '\e[999;1H...'`) could overwrite, scroll away or fake that
// line. So the friend's terminal never receives pty bytes. They are parsed into a headless
// terminal emulator (VirtualScreen), and the friend's terminal only ever receives what we paint
// from its cells: escape sequences built here from plain data, never copied from the pty. The
// screen is drawn in the top-left and the status line owns the terminal's last row.
//
// Painting is decoupled from the pty's output rate: a flood of output costs at most one frame per
// interval, and a slow terminal (a 9600 baud serial console) gets fewer, not longer, frames.

import type { Writable } from 'node:stream';
import type { Terminal } from '@xterm/headless';
import type { SerializeAddon } from '@xterm/addon-serialize';

// The emulator is loaded when the first session starts, not when the program does: the first
// screen comes up sooner (about 60 ms on a small machine), and the wizard never needs it.
let xterm: { Terminal: typeof Terminal; SerializeAddon: typeof SerializeAddon } | null = null;
function loadXterm() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  xterm ??= { Terminal: require('@xterm/headless').Terminal, SerializeAddon: require('@xterm/addon-serialize').SerializeAddon };
  return xterm;
}
import type { TermSize } from './size';

export type MouseTracking = 'none' | 'x10' | 'vt200' | 'drag' | 'any';
export type MouseEncoding = 'default' | 'sgr' | 'sgr-pixels';

/** The input modes a program asked for; the friend's terminal mirrors them so its keys and mouse
 * reports arrive in the encoding the program expects. */
export interface InputModes {
  readonly appCursorKeys: boolean; // DECCKM, CSI ? 1 h
  readonly appKeypad: boolean; // DECKPAM, ESC =
  readonly bracketedPaste: boolean; // CSI ? 2004 h
  readonly mouseTracking: MouseTracking; // CSI ? 9 / 1000 / 1002 / 1003 h
  readonly mouseEncoding: MouseEncoding; // CSI ? 1006 / 1016 h
}

export interface Cursor {
  readonly x: number;
  readonly y: number;
  readonly visible: boolean;
}

/** One cell of the friend's terminal. `sgr` is the SGR parameter list that selects its colours and
 * attributes ('' = default), so two cells look alike exactly when their `sgr` strings are equal.
 * A wide character has width 2 and is followed by a width-0 cell with `ch` ''. */
export interface Cell {
  readonly ch: string;
  readonly width: 0 | 1 | 2;
  readonly sgr: string;
}

/** What is on the friend's terminal: every cell of every row, the cursor and the input modes. */
export interface Frame {
  readonly cols: number;
  readonly rows: number;
  readonly lines: readonly (readonly Cell[])[];
  readonly cursor: Cursor;
  readonly modes: InputModes;
}

// Internals of @xterm/headless 6.0 that the public API does not expose (checked in
// lib-headless/xterm-headless.js): the synchronous write queue, cursor visibility (DECTCEM),
// the mouse encoding, the scroll region and the width table.
interface HeadlessCore {
  _writeBuffer: { writeSync(data: string | Uint8Array): void };
  coreService: { isCursorHidden: boolean };
  coreMouseService: { activeEncoding: string };
  buffer: { scrollTop: number; scrollBottom: number };
  unicodeService: { wcwidth(codepoint: number): number };
}

/** The pty's output parsed into a terminal emulator; the only reader of the pty's bytes. */
export class VirtualScreen {
  private readonly term: Terminal;
  private readonly serializer = new (loadXterm().SerializeAddon)();

  constructor(size: TermSize) {
    this.term = new (loadXterm().Terminal)({
      cols: size.cols,
      rows: size.rows,
      scrollback: 0, // the friend's terminal shows one screen; history is not ours to keep
      logLevel: 'off',
      allowProposedApi: true,
    });
    this.term.loadAddon(this.serializer as unknown as Parameters<Terminal['loadAddon']>[0]);
  }

  private get core(): HeadlessCore {
    return (this.term as unknown as { _core: HeadlessCore })._core;
  }

  /** Parse synchronously: when this returns, the buffer shows the data. (The public
   * `_core.writeSync` does the same but logs "writeSync is unreliable" once.) */
  write(data: Uint8Array | string): void {
    this.core._writeBuffer.writeSync(data);
  }

  resize(size: TermSize): void {
    this.term.resize(size.cols, size.rows);
  }

  get size(): TermSize {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /** The row `y` of the visible screen, or undefined outside it. */
  line(y: number) {
    const buffer = this.term.buffer.active;
    return buffer.getLine(buffer.viewportY + y);
  }

  nullCell() {
    return this.term.buffer.active.getNullCell();
  }

  /** The cursor; x is clamped into the screen (after writing the last column it sits at `cols`,
   * waiting to wrap). */
  cursor(): Cursor {
    const buffer = this.term.buffer.active;
    return {
      x: Math.min(buffer.cursorX, this.term.cols - 1),
      y: buffer.cursorY,
      visible: !this.core.coreService.isCursorHidden,
    };
  }

  inputModes(): InputModes {
    const m = this.term.modes;
    const encoding = this.core.coreMouseService.activeEncoding;
    return {
      appCursorKeys: m.applicationCursorKeysMode,
      appKeypad: m.applicationKeypadMode,
      bracketedPaste: m.bracketedPasteMode,
      mouseTracking: m.mouseTrackingMode,
      mouseEncoding: encoding === 'SGR' ? 'sgr' : encoding === 'SGR_PIXELS' ? 'sgr-pixels' : 'default',
    };
  }

  /** Display width of one code point by the emulator's own table (0, 1 or 2). */
  charWidth(codepoint: number): number {
    return this.core.unicodeService.wcwidth(codepoint);
  }

  /** Bytes that reproduce the current screen on a fresh terminal of the same size: the serialize
   * addon gives contents, colours, the alternate screen and most modes; it lacks cursor
   * visibility, the mouse encoding and the scroll region, and it places the cursor by relative
   * moves, so those are added here. */
  snapshot(): string {
    const body = this.serializer.serialize({ scrollback: 0, excludeModes: true });
    const m = this.term.modes;
    const { scrollTop, scrollBottom } = this.core.buffer;
    const { x, y, visible } = this.cursor();
    let out = '\x1b[0m\x1b[H\x1b[2J\x1b[r' + body;
    // DECSTBM and DECOM both home the cursor, so they come before the absolute cursor move.
    if (scrollTop !== 0 || scrollBottom !== this.term.rows - 1) out += `\x1b[${scrollTop + 1};${scrollBottom + 1}r`;
    if (m.originMode) out += '\x1b[?6h';
    out += cup(m.originMode ? y - scrollTop : y, x);
    if (!visible) out += '\x1b[?25l';
    if (m.insertMode) out += '\x1b[4h';
    if (!m.wraparoundMode) out += '\x1b[?7l';
    if (m.reverseWraparoundMode) out += '\x1b[?45h';
    if (m.sendFocusMode) out += '\x1b[?1004h';
    return out + modeChanges(NO_MODES, this.inputModes());
  }

  dispose(): void {
    this.term.dispose();
  }
}

// ---- frames: pure data from the screen -------------------------------------------------------

const BLANK: Cell = { ch: '', width: 1, sgr: '' };
const NO_MODES: InputModes = {
  appCursorKeys: false,
  appKeypad: false,
  bracketedPaste: false,
  mouseTracking: 'none',
  mouseEncoding: 'default',
};

// A written space and an erased cell look the same: one spelling keeps frames comparable.
const visible = (ch: string): string => (ch === ' ' ? '' : ch);

type BufferCell = ReturnType<VirtualScreen['nullCell']>;

/** SGR parameters for a colour: palette 0-7 -> 30-37, 8-15 -> 90-97, 256 -> 38;5;n, RGB -> 38;2;r;g;b
 * (ECMA-48 8.3.117 and the xterm ctlseqs extensions); `base` is 30 for foreground, 40 for background. */
function colourSgr(base: 30 | 40, palette: boolean, rgb: boolean, value: number): string | null {
  if (palette) {
    if (value < 8) return String(base + value);
    if (value < 16) return String(base + 60 + value - 8);
    return `${base + 8};5;${value}`;
  }
  if (rgb) return `${base + 8};2;${(value >> 16) & 255};${(value >> 8) & 255};${value & 255}`;
  return null;
}

/** The SGR parameter list that reproduces a cell's look; '' for the default. */
export function cellSgr(c: BufferCell): string {
  if (c.isAttributeDefault()) return '';
  const p: string[] = [];
  if (c.isBold()) p.push('1');
  if (c.isDim()) p.push('2');
  if (c.isItalic()) p.push('3');
  if (c.isUnderline()) p.push('4');
  if (c.isBlink()) p.push('5');
  if (c.isInverse()) p.push('7');
  if (c.isInvisible()) p.push('8');
  if (c.isStrikethrough()) p.push('9');
  if (c.isOverline()) p.push('53');
  const fg = colourSgr(30, c.isFgPalette(), c.isFgRGB(), c.getFgColor());
  const bg = colourSgr(40, c.isBgPalette(), c.isBgRGB(), c.getBgColor());
  if (fg) p.push(fg);
  if (bg) p.push(bg);
  return p.join(';');
}

function screenRow(screen: VirtualScreen, y: number, cols: number, into: BufferCell): Cell[] {
  const row: Cell[] = [];
  const line = screen.line(y);
  const width = Math.min(cols, screen.size.cols);
  for (let x = 0; x < width; x++) {
    const c = line?.getCell(x, into);
    if (!c) {
      row.push(BLANK);
      continue;
    }
    const w = c.getWidth();
    const sgr = cellSgr(c);
    // A wide character cut by the right edge would not fit: show its background as a blank.
    if (w === 2 && x === width - 1) row.push({ ch: '', width: 1, sgr });
    else row.push({ ch: visible(c.getChars()), width: w === 2 ? 2 : w === 0 ? 0 : 1, sgr });
  }
  while (row.length < cols) row.push(BLANK);
  return row;
}

/** The status text as exactly `cols` reverse-video cells: control characters shown as '?',
 * combining marks kept with their base, wide characters that would not fit replaced by padding. */
export function statusRow(screen: VirtualScreen, status: string, cols: number): Cell[] {
  const row: Cell[] = [];
  for (const ch of status) {
    const cp = ch.codePointAt(0)!;
    const control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
    const w = control ? 1 : screen.charWidth(cp);
    if (w === 0) {
      const last = row.length - (row[row.length - 1]?.width === 0 ? 2 : 1);
      if (last >= 0) row[last] = { ...row[last], ch: row[last].ch + ch };
      continue;
    }
    if (row.length + w > cols) break;
    row.push({ ch: control ? '?' : visible(ch), width: w === 2 ? 2 : 1, sgr: '7' });
    if (w === 2) row.push({ ch: '', width: 0, sgr: '7' });
  }
  while (row.length < cols) row.push({ ch: '', width: 1, sgr: '7' });
  return row;
}

/** The frame for a friend terminal of size `term`: the screen's cells in the top-left, blank
 * around them, and `status` on the last row. */
export function grabFrame(screen: VirtualScreen, term: TermSize, status: string): Frame {
  const cols = Math.max(1, term.cols);
  const rows = Math.max(1, term.rows);
  const shown = Math.min(rows - 1, screen.size.rows);
  const scratch = screen.nullCell();
  const lines: Cell[][] = [];
  for (let y = 0; y < rows - 1; y++) {
    lines.push(y < shown ? screenRow(screen, y, cols, scratch) : new Array<Cell>(cols).fill(BLANK));
  }
  lines.push(statusRow(screen, status, cols));
  const c = screen.cursor();
  // The cursor never sits on the status line, even while the screen is taller than the terminal.
  const cursor = { x: Math.min(c.x, cols - 1), y: Math.min(c.y, Math.max(0, rows - 2)), visible: c.visible };
  return { cols, rows, lines, cursor, modes: screen.inputModes() };
}

// ---- drawing: pure escape sequences from frames ----------------------------------------------

/** CUP, 1-based (ECMA-48 8.3.21). */
const cup = (y: number, x: number): string => `\x1b[${y + 1};${x + 1}H`;

const sameCell = (a: Cell, b: Cell): boolean => a.ch === b.ch && a.width === b.width && a.sgr === b.sgr;
const isBlank = (c: Cell): boolean => c.ch === '' && c.sgr === '' && c.width === 1;

const MOUSE_MODE: Record<MouseTracking, number> = { none: 0, x10: 9, vt200: 1000, drag: 1002, any: 1003 };
const MOUSE_ENCODING: Record<MouseEncoding, number> = { default: 0, sgr: 1006, 'sgr-pixels': 1016 };

const decset = (mode: number, on: boolean): string => `\x1b[?${mode}${on ? 'h' : 'l'}`;

/** The sequences that switch the friend's terminal from `prev` modes (null: unknown, so all are
 * set explicitly) to `next`. */
function modeChanges(prev: InputModes | null, next: InputModes): string {
  let out = '';
  if (!prev || prev.appCursorKeys !== next.appCursorKeys) out += decset(1, next.appCursorKeys);
  if (!prev || prev.appKeypad !== next.appKeypad) out += next.appKeypad ? '\x1b=' : '\x1b>';
  if (!prev || prev.bracketedPaste !== next.bracketedPaste) out += decset(2004, next.bracketedPaste);
  if (!prev || prev.mouseTracking !== next.mouseTracking) {
    const old = prev ? MOUSE_MODE[prev.mouseTracking] : 1000;
    if (old) out += decset(old, false);
    if (next.mouseTracking !== 'none') out += decset(MOUSE_MODE[next.mouseTracking], true);
  }
  if (!prev || prev.mouseEncoding !== next.mouseEncoding) {
    const old = prev ? MOUSE_ENCODING[prev.mouseEncoding] : 1006;
    if (old) out += decset(old, false);
    if (next.mouseEncoding !== 'default') out += decset(MOUSE_ENCODING[next.mouseEncoding], true);
  }
  return out;
}

/** Cells as text; a terminal that cannot show non-ASCII gets '?' (and a blank for the second
 * column of a wide character, so the columns still line up). */
function glyph(c: Cell, utf8: boolean): string {
  if (c.ch === '') return c.width === 2 ? '  ' : ' ';
  if (utf8 || !/[^\x20-\x7e]/.test(c.ch)) return c.ch;
  return c.width === 2 ? '? ' : '?';
}

/** Writer state for one paint: the SGR the terminal currently has (null: unknown). */
interface Pen {
  sgr: string | null;
  out: string;
}

function setSgr(pen: Pen, sgr: string): void {
  if (pen.sgr === sgr) return;
  pen.out += sgr === '' ? '\x1b[0m' : `\x1b[0;${sgr}m`;
  pen.sgr = sgr;
}

/** Draw columns [from, to) of a row; changed cells past the row's last non-blank one are erased
 * with EL instead of drawn as spaces. */
function drawSpan(pen: Pen, row: readonly Cell[], y: number, from: number, to: number, utf8: boolean): void {
  let end = row.length;
  while (end > 0 && isBlank(row[end - 1])) end--;
  const clearTail = to > end; // cells past the content changed: erase them rather than draw blanks
  const stop = clearTail ? Math.max(from, end) : to;
  pen.out += cup(y, from);
  for (let x = from; x < stop; x++) {
    const c = row[x];
    if (c.width === 0) continue; // covered by the wide character before it
    setSgr(pen, c.sgr);
    pen.out += glyph(c, utf8);
  }
  if (clearTail) {
    setSgr(pen, ''); // EL fills with the current background (ECMA-48 BCE): use the default
    pen.out += '\x1b[K';
  }
}

/** The columns [from, to) of `next` that differ from `prev`, widened so no wide character is cut;
 * null when the row is unchanged. */
function changedSpan(prev: readonly Cell[] | null, next: readonly Cell[]): [number, number] | null {
  if (!prev) return [0, next.length];
  let from = 0;
  while (from < next.length && sameCell(prev[from], next[from])) from++;
  if (from === next.length) return null;
  let to = next.length;
  while (to > from && sameCell(prev[to - 1], next[to - 1])) to--;
  if (from > 0 && next[from].width === 0) from--;
  if (to < next.length && next[to - 1].width === 2) to++;
  return [from, to];
}

/** The escape sequences that turn `prev` (null: unknown) into `next`. Autowrap is off while the
 * last cell of the last row is written (DECAWM, CSI ? 7 l), so the terminal never scrolls the
 * status line away; spans elsewhere end at most at the last column and are followed by a cursor
 * move, so they never wrap. */
export function drawDiff(prev: Frame | null, next: Frame, utf8: boolean): string {
  const base = prev && prev.cols === next.cols && prev.rows === next.rows ? prev : null;
  const pen: Pen = { sgr: base ? null : '', out: '' };
  let touchesCorner = false;
  for (let y = 0; y < next.rows; y++) {
    const row = next.lines[y];
    if (!base && row.every(isBlank)) continue; // already blank after the clear
    const span = changedSpan(base ? base.lines[y] : null, row);
    if (!span) continue;
    drawSpan(pen, row, y, span[0], span[1], utf8);
    touchesCorner ||= y === next.rows - 1 && span[1] === next.cols;
  }
  let out = base ? '' : '\x1b[0m\x1b[H\x1b[2J';
  if (pen.out) {
    setSgr(pen, '');
    out += touchesCorner ? '\x1b[?7l' + pen.out + '\x1b[?7h' : pen.out;
  }
  const { cursor } = next;
  if (pen.out || !base || base.cursor.x !== cursor.x || base.cursor.y !== cursor.y) out += cup(cursor.y, cursor.x);
  if (!base || base.cursor.visible !== cursor.visible) out += cursor.visible ? '\x1b[?25h' : '\x1b[?25l';
  return out + modeChanges(base ? base.modes : null, next.modes);
}

/** Sequences that hand the friend's terminal back: status line cleared, default SGR, cursor
 * shown at the start of the last row, every mirrored input mode off, autowrap on. */
export function releaseTerminal(last: Frame | null, rows: number): string {
  const modes = last ? modeChanges(last.modes, NO_MODES) : modeChanges(null, NO_MODES);
  return `\x1b[0m\x1b[?7h${cup(rows - 1, 0)}\x1b[2K\x1b[?25h${modes}`;
}

// ---- the painter: frames to the friend's terminal at a bounded rate --------------------------

export interface PainterOptions {
  screen: VirtualScreen;
  /** The friend's terminal. A TTY write on Linux is synchronous and may be slow (serial console). */
  output: Writable;
  termSize(): TermSize;
  status(): string;
  utf8: boolean;
  /** The shortest time between frames; default 30 ms (at most ~33 frames a second). */
  minFrameMs?: number;
}

export interface Painter {
  /** The screen's content changed. */
  dirty(): void;
  /** The terminal was resized or garbled: the next frame repaints everything. */
  invalidate(): void;
  /** Paint synchronously now. */
  paintNow(): void;
  /** Stop painting: the last frame stays, the status line is cleared, the cursor is shown at the
   * start of the last row and the mirrored input modes are turned off. */
  stop(): void;
}

// A slow terminal gets this many times its last write's duration between frames, so painting
// takes at most about a fifth of its time and typing stays responsive.
const SLOW_WRITE_FACTOR = 4;

/** The wait before the next frame: a frame interval after the last one, longer when the last
 * write was slow. Zero when idle long enough, so an echoed keystroke shows on the next tick. */
export function frameDelay(now: number, lastPaintEnd: number, lastWriteMs: number, minFrameMs: number): number {
  const interval = Math.max(minFrameMs, SLOW_WRITE_FACTOR * lastWriteMs);
  return Math.max(0, lastPaintEnd + interval - now);
}

export function startPainter(o: PainterOptions): Painter {
  const minFrameMs = o.minFrameMs ?? 30;
  let shown: Frame | null = null; // what the friend's terminal shows; null: unknown
  let pending = false;
  let stopped = false;
  let lastPaintEnd = -Infinity;
  let lastWriteMs = 0;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let waitingForDrain = false;

  const backedUp = (): boolean =>
    o.output.writableNeedDrain || o.output.writableLength >= o.output.writableHighWaterMark;

  function cancel(): void {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
  }

  function onDrain(): void {
    waitingForDrain = false;
    schedule();
  }

  function paint(): void {
    cancel();
    pending = false;
    const next = grabFrame(o.screen, o.termSize(), o.status());
    const bytes = drawDiff(shown, next, o.utf8);
    shown = next;
    const start = performance.now();
    if (bytes) o.output.write(bytes);
    lastPaintEnd = performance.now();
    lastWriteMs = lastPaintEnd - start;
  }

  function tick(): void {
    timer = null;
    immediate = null;
    if (stopped || !pending) return;
    if (backedUp()) {
      // An async stream is behind: painting now would only queue stale frames. Wait for it.
      if (!waitingForDrain) o.output.once('drain', onDrain);
      waitingForDrain = true;
      return;
    }
    paint();
  }

  function schedule(): void {
    if (stopped || !pending || timer || immediate || waitingForDrain) return;
    const delay = frameDelay(performance.now(), lastPaintEnd, lastWriteMs, minFrameMs);
    if (delay === 0) immediate = setImmediate(tick);
    else timer = setTimeout(tick, delay);
  }

  return {
    dirty() {
      pending = true;
      schedule();
    },
    invalidate() {
      shown = null;
      pending = true;
      schedule();
    },
    paintNow() {
      if (!stopped) paint();
    },
    stop() {
      if (stopped) return;
      // Show what the shell last printed, then hand the terminal back.
      if (pending) paint();
      stopped = true;
      cancel();
      o.output.off('drain', onDrain);
      o.output.write(releaseTerminal(shown, o.termSize().rows));
    },
  };
}
