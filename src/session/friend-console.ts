// The friend's own terminal during the session, painted: the screen painted from a virtual screen
// of the pty with the status line on the last row (the shell's output never reaches the terminal
// directly), the keyboard scanned for the hotkey before anything reaches the shell
// (friend-keyboard.ts), and the pty size: the smaller of the two terminals on each axis, less the
// status line. The line session (friend-lines.ts) has the same interface.
import type { Readable, Writable } from 'node:stream';
import type { Clock } from './clock';
import { readFriendKeys } from './friend-keyboard';
import { notices } from './notice';
import { startPainter } from './painter';
import type { Pty } from './pty';
import { VirtualScreen } from './screen';
import { sanitizeSize, sharedSize, type TermSize } from './size';
import { statusText, type HelperPresence } from './status';

export interface FriendTerminal {
  input: Readable;
  output: Writable;
  size(): TermSize;
  utf8: boolean;
  /** The terminal shows colours (false for TERM=dumb); the line session uses them. */
  colour?: boolean;
}

/** What the status says now, as the session knows it: the helper, and a copy through the shell
 * (`files`: its line; `asking`: that line is a question to answer with y or n). */
export interface FriendStatus {
  presence: HelperPresence;
  files: string | null;
  asking: boolean;
}

export interface FriendConsoleOptions {
  friend: FriendTerminal;
  pty: Pty;
  clock: Clock;
  status(): FriendStatus;
  /** The helper's terminal now, or null when no helper counts (gone, or never said). */
  helperSize(): TermSize | null;
  onKeyboardToggle(): void;
  /** Keys answering a question on the status line are taken there (true), not sent on. */
  takeKey?(bytes: Buffer): boolean;
  onHotkey(): void;
  onResized(size: TermSize): void;
  /** A line said to the friend (the line session), for the events log. */
  onAnnounce?(text: string): void;
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

/** How long a notice or the helper's message stays on the status line. */
const NOTICE_MS = 60_000;

/** The pty size for these terminals: the friend's less its status row, and the helper's. */
export function ptySize(friend: TermSize, helper: TermSize | null): TermSize {
  const area = { cols: friend.cols, rows: Math.max(2, friend.rows - 1) }; // the last row is the status line
  return sharedSize(area, helper ? sanitizeSize(helper, area) : null);
}

/** A way to show the session on the friend's terminal: painted (here) or as lines
 * (friend-lines.ts). The caller picks one; the session does not know which. */
export interface FriendConsoleKind {
  /** The pty's size for these terminals. */
  ptySize(friend: TermSize, helper: TermSize | null): TermSize;
  start(o: FriendConsoleOptions): FriendConsole;
}

export const paintedFriendConsole: FriendConsoleKind = { ptySize, start: startFriendConsole };

/** The status line's text for a width: a question about a copy first, else a notice, else the
 * copy's progress, in place of the key hints. */
function statusLine(s: FriendStatus, notice: string | null, utf8: boolean, width: number): string {
  return statusText({ presence: s.presence, notice: s.asking ? s.files : notice ?? s.files, utf8, width });
}

export function startFriendConsole(o: FriendConsoleOptions): FriendConsole {
  let size = ptySize(o.friend.size(), o.helperSize());
  const screen = new VirtualScreen(size);
  const painter = startPainter({
    screen,
    output: o.friend.output,
    termSize: () => o.friend.size(),
    utf8: o.friend.utf8,
    status: () => statusLine(o.status(), board.current(), o.friend.utf8, o.friend.size().cols),
  });
  const board = notices(o.clock, () => painter.dirty());
  let stopped = false;
  o.pty.resize(size);
  const stopKeys = readFriendKeys({ ...o, input: o.friend.input, utf8: o.friend.utf8 });

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
      stopKeys();
      board.stop();
      painter.stop();
      screen.dispose();
    },
  };
}
