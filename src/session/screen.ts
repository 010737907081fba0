// The friend's virtual screen: the shared pty's output parsed by a headless terminal emulator.
// frame.ts turns it into frames with an unforgeable status line; painter.ts shows them.
//
// Why: the friend must always be able to see that a helper is connected and how to end the
// session. If the pty's bytes went straight to the friend's terminal, any program in the shared
// shell (or the helper typing `printf '\e[999;1H...'`) could overwrite, scroll away or fake that
// line. So the friend's terminal never receives pty bytes. They are parsed into a headless
// terminal emulator (VirtualScreen), and the friend's terminal only ever receives what we paint
// from its cells: escape sequences built from plain data (frame.ts), never copied from the pty.
// The screen is drawn in the top-left and the status line owns the terminal's last row.
//
// Painting is decoupled from the pty's output rate: a flood of output costs at most one frame per
// interval, and a slow terminal (a 9600 baud serial console) gets fewer, not longer, frames.

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
import { cup, modeChanges, NO_MODES } from './frame';
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
