// Frames: what the friend's terminal shows, as plain data taken from the virtual screen (the
// screen's cells in the top-left, the status line on the last row), and the escape sequences that
// turn one frame into the next. Pure: nothing here writes anywhere (screen.ts says why the
// friend's terminal only ever gets what is drawn here).
import type { TermSize } from './size';
import type { Cell, Frame, InputModes, MouseEncoding, MouseTracking, VirtualScreen } from './screen';

// ---- frames: pure data from the screen -------------------------------------------------------

const BLANK: Cell = { ch: '', width: 1, sgr: '' };
export const NO_MODES: InputModes = {
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
export const cup = (y: number, x: number): string => `\x1b[${y + 1};${x + 1}H`;

const sameCell = (a: Cell, b: Cell): boolean => a.ch === b.ch && a.width === b.width && a.sgr === b.sgr;
const isBlank = (c: Cell): boolean => c.ch === '' && c.sgr === '' && c.width === 1;

const MOUSE_MODE: Record<MouseTracking, number> = { none: 0, x10: 9, vt200: 1000, drag: 1002, any: 1003 };
const MOUSE_ENCODING: Record<MouseEncoding, number> = { default: 0, sgr: 1006, 'sgr-pixels': 1016 };

const decset = (mode: number, on: boolean): string => `\x1b[?${mode}${on ? 'h' : 'l'}`;

/** The sequences that switch the friend's terminal from `prev` modes (null: unknown, so all are
 * set explicitly) to `next`. */
export function modeChanges(prev: InputModes | null, next: InputModes): string {
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
