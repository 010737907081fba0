// The friend's own terminal during the session: the screen painted from a virtual screen of the
// pty with the status line on the last row (the shell's output never reaches the terminal
// directly), the keyboard scanned for the hotkey before anything reaches the shell, and the pty
// size: the smaller of the two terminals on each axis, less the status line.
import type { Readable, Writable } from 'node:stream';
import type { Clock } from './clock';
import { flush, hotkeyState, scan, takeKeyboardToggles } from './hotkey';
import { notices } from './notice';
import { startPainter } from './painter';
import type { Pty } from './pty';
import { VirtualScreen } from './screen';
import { sanitizeSize, sharedSize, type TermSize } from './size';

export interface FriendTerminal {
  input: Readable;
  output: Writable;
  size(): TermSize;
  utf8: boolean;
}

export interface FriendConsoleOptions {
  friend: FriendTerminal;
  pty: Pty;
  clock: Clock;
  /** The status line's text for a width, with the notice on it if there is one. */
  status(width: number, notice: string | null): string;
  /** The helper's terminal now, or null when no helper counts (gone, or never said). */
  helperSize(): TermSize | null;
  onKeyboardToggle(): void;
  /** Keys answering a question on the status line are taken there (true), not sent on. */
  takeKey?(bytes: Buffer): boolean;
  onHotkey(): void;
  onResized(size: TermSize): void;
}

export interface FriendConsole {
  /** The pty's output: into the virtual screen, painted soon. */
  write(data: Buffer): void;
  /** The pty's size now. */
  size(): TermSize;
  /** The screen as bytes that redraw it (for a helper's fresh copy). */
  snapshot(): string;
  /** Something on the status line changed. */
  dirty(): void;
  /** Shows a notice (a refused request, the helper's message) on the status line for a while. */
  say(text: string): void;
  /** Repaints every second while on, for a countdown on the status line. */
  countdown(on: boolean): void;
  /** Follows the friend's or the helper's terminal size. */
  resize(): void;
  stop(): void;
}

/** How long a lone ESC (or another hotkey prefix) is held before it goes to the shell. */
const HOLD_MS = 30;
/** How long a notice or the helper's message stays on the status line. */
const NOTICE_MS = 60_000;

/** The pty size for these terminals: the friend's less its status row, and the helper's. */
export function ptySize(friend: TermSize, helper: TermSize | null): TermSize {
  const area = { cols: friend.cols, rows: Math.max(2, friend.rows - 1) }; // the last row is the status line
  return sharedSize(area, helper ? sanitizeSize(helper, area) : null);
}

export function startFriendConsole(o: FriendConsoleOptions): FriendConsole {
  let size = ptySize(o.friend.size(), o.helperSize());
  const screen = new VirtualScreen(size);
  const painter = startPainter({
    screen,
    output: o.friend.output,
    termSize: () => o.friend.size(),
    utf8: o.friend.utf8,
    status: () => o.status(o.friend.size().cols, board.current()),
  });
  const board = notices(o.clock, () => painter.dirty());
  let keys = hotkeyState({ utf8: o.friend.utf8 });
  let hold: unknown = null;
  let stopped = false;

  const toPty = (bytes: Buffer) => {
    if (bytes.length === 0 || o.takeKey?.(bytes)) return;
    const t = takeKeyboardToggles(bytes);
    if (t.rest.length > 0) o.pty.write(t.rest);
    if (t.toggles % 2 === 1) o.onKeyboardToggle();
  };
  const onInput = (chunk: Buffer) => {
    if (stopped) return;
    o.clock.clearTimeout(hold);
    hold = null;
    const r = scan(keys, chunk);
    keys = r.state;
    toPty(r.passthrough);
    if (r.kill) return o.onHotkey();
    if (keys.held.length > 0) {
      hold = o.clock.setTimeout(() => {
        hold = null;
        const f = flush(keys);
        keys = f.state;
        toPty(f.passthrough);
      }, HOLD_MS);
    }
  };
  o.pty.resize(size);
  o.friend.input.on('data', onInput);
  o.friend.input.resume();

  return {
    write(data) {
      screen.write(data);
      painter.dirty();
    },
    size: () => size,
    snapshot: () => screen.snapshot(),
    dirty: () => painter.dirty(),
    say: (text) => board.say(text, NOTICE_MS),
    countdown: (on) => board.countdown(on),
    resize() {
      const next = ptySize(o.friend.size(), o.helperSize());
      painter.invalidate();
      if (next.cols === size.cols && next.rows === size.rows) return;
      size = next;
      screen.resize(size);
      o.pty.resize(size);
      o.onResized(size);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      o.clock.clearTimeout(hold);
      board.stop();
      o.friend.input.off('data', onInput);
      painter.stop();
      screen.dispose();
    },
  };
}
