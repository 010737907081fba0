// The helper's own terminal during the session, painted like the friend's (friend-console.ts; the
// line session is helper-lines.ts, with the same interface):
// the shell's output arrives from a machine that may be compromised, so it is parsed into a
// virtual screen and only what is painted from its cells reaches the helper's terminal (no
// clipboard writes, titles or terminal queries), with the helper's status line on the last row.
import type { Writable } from 'node:stream';
import type { Clock } from './clock';
import { notices } from './notice';
import { startPainter } from './painter';
import { VirtualScreen } from './screen';
import type { TermSize } from './size';
import { helperStatusText, type HelperView } from './helper-status';

export interface HelperTerminal {
  output: Writable;
  size(): TermSize;
  utf8: boolean;
  /** The terminal shows colours (false for TERM=dumb); the line session uses them. */
  colour?: boolean;
}

/** What the helper's status says now: the session's view, and a copy's progress. */
export interface HelperStatus {
  view: HelperView;
  files: string | null;
}

export interface HelperConsoleOptions {
  terminal: HelperTerminal;
  clock: Clock;
  status(): HelperStatus;
}

export interface HelperConsole {
  /** The shell's output: into the virtual screen, painted soon. */
  write(data: Buffer): void;
  /** The shared pty's size, as the friend's program says it is; false when it was already that
   * (or when nothing here depends on it: the line session). */
  ptySize(size: TermSize): boolean;
  /** The helper's terminal was resized. */
  resized(): void;
  /** Shows a note on the status line for `ms` (default 15 s). */
  say(text: string, ms?: number): void;
  /** Repaints every second while on, for the reconnect countdown. */
  countdown(on: boolean): void;
  /** Something on the status line changed. */
  dirty(): void;
  /** The last frame stays, the status line is cleared and the terminal given back. */
  stop(): void;
}

const NOTE_MS = 15_000;

/** The area the helper's terminal has for the shell: all but the status line. This is the size
 * the helper's program asks the friend's for. */
export function helperArea(term: TermSize): TermSize {
  return { cols: term.cols, rows: Math.max(2, term.rows - 1) };
}

/** A way to show the session on the helper's terminal: painted (here) or as lines
 * (helper-lines.ts). The caller picks one; the session does not know which. */
export interface HelperConsoleKind {
  /** The area the helper's terminal has for the shell: the size asked for. */
  area(term: TermSize): TermSize;
  start(o: HelperConsoleOptions): HelperConsole;
}

export const paintedHelperConsole: HelperConsoleKind = { area: helperArea, start: startHelperConsole };

export function startHelperConsole(o: HelperConsoleOptions): HelperConsole {
  const screen = new VirtualScreen(helperArea(o.terminal.size()));
  const painter = startPainter({
    screen,
    output: o.terminal.output,
    termSize: () => o.terminal.size(),
    utf8: o.terminal.utf8,
    status: () => {
      const s = o.status();
      return helperStatusText(s.view, board.current() ?? s.files, o.terminal.utf8, o.terminal.size().cols);
    },
    // The helper types here and waits for each echo: a small change (up to 256 bytes of output
    // since the last frame) is painted at once; a flood gets ~50 frames a second.
    minFrameMs: 20,
    smallBytes: 256,
  });
  // Nothing is painted before the shell's first output: until then the helper's keys are not sent
  // (helper-session.ts), and what is on the terminal says the shell is starting.
  let started = false;
  let stopped = false;
  const repaint = () => started && painter.dirty();
  const board = notices(o.clock, repaint);
  return {
    write(data) {
      if (stopped) return;
      screen.write(data);
      started = true;
      painter.dirty(data.length);
    },
    ptySize(size) {
      if (stopped || (size.cols === screen.size.cols && size.rows === screen.size.rows)) return false;
      screen.resize(size);
      if (started) painter.invalidate();
      return true;
    },
    resized: () => started && painter.invalidate(),
    say: (text, ms = NOTE_MS) => board.say(text, ms),
    countdown: (on) => board.countdown(on),
    dirty: repaint,
    stop() {
      if (stopped) return;
      stopped = true;
      board.stop();
      if (started) painter.stop();
      screen.dispose();
    },
  };
}
