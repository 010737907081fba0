// Whether the session is shown as lines (announce.ts) or painted: --session says so; without it,
// lines with --plain, or when this terminal is a Linux text console a screen reader is reading.
// The check is cheap and looks only for what reads the console itself:
// - speakup (the kernel's console speech) is loaded: /sys/module/speakup exists;
// - brltty (braille displays) is running: a process named "brltty" in /proc.
// Either counts only when our terminal is a virtual console (/dev/ttyN, or /dev/console), since
// both read that and nothing else. brltty can run without a display (some udev rules start it
// for USB serial adapters); then the session is shown as lines needlessly: `--session screen`
// turns that off (README).
import * as fs from 'node:fs';
import * as path from 'node:path';

export type SessionView = 'screen' | 'lines';

export interface Places {
  /** /sys and /proc, moved for tests. */
  sys: string;
  proc: string;
  /** The terminal our input comes from (the link behind /proc/self/fd/0). */
  tty(): string | null;
}

const REAL: Places = {
  sys: '/sys',
  proc: '/proc',
  tty() {
    try {
      return fs.readlinkSync('/proc/self/fd/0');
    } catch {
      return null;
    }
  },
};

/** A Linux virtual console: what speakup and brltty read. */
export function isVirtualConsole(tty: string | null): boolean {
  return tty !== null && /^\/dev\/(tty[0-9]+|console|vc\/[0-9]+)$/.test(tty);
}

/** The screen reader reading this console, by name, or null. */
export function consoleScreenReader(p: Places = REAL): string | null {
  if (!isVirtualConsole(p.tty())) return null;
  if (fs.existsSync(path.join(p.sys, 'module', 'speakup'))) return 'speakup';
  let pids: string[] = [];
  try {
    pids = fs.readdirSync(p.proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      if (fs.readFileSync(path.join(p.proc, pid, 'comm'), 'utf8').trim() === 'brltty') return 'brltty';
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return null;
}

/** How the session is shown: as asked (--session), else lines with --plain or a screen reader. */
export function sessionView(asked: SessionView | undefined, plain: boolean, p: Places = REAL): { view: SessionView; reader: string | null } {
  if (asked) return { view: asked, reader: null };
  if (plain) return { view: 'lines', reader: null };
  const reader = consoleScreenReader(p);
  return { view: reader ? 'lines' : 'screen', reader };
}
