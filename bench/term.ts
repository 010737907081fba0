// Programs in real ptys with cheap output matching. Output is not kept: a short tail for matching
// and a byte count (and, for a side that paints its screen, a terminal emulator).
import * as pty from '@lydell/node-pty';
import { VirtualScreen } from '../src/session/screen';
import { ROOT, now, onCleanup, onExit } from './processes';

interface Waiter {
  test: (s: string) => boolean;
  resolve: (t: number) => void;
  /** Also look at the painted screen, not only the stream. */
  screen: boolean;
}

export class Term {
  readonly p: pty.IPty;
  tail = '';
  bytes = 0;
  /** What a painted side's screen shows up to the cursor; null for a side read as a stream. */
  private readonly screenText: () => string | null;
  /** Whether waits look at the screen too by default (else only when asked). */
  private readonly readScreen: boolean;
  all = '';
  exitedAt = 0;
  readonly exited: Promise<{ code: number; signal: number }>;
  private waiters: Waiter[] = [];
  constructor(readonly name: string, file: string, args: string[], o: { cols?: number; rows?: number; env?: Record<string, string>; keep?: boolean; painted?: boolean; readScreen?: boolean } = {}) {
    const env = { ...process.env, TERM: 'xterm', LANG: 'C.UTF-8', ...o.env } as Record<string, string>;
    this.p = pty.spawn(file, args, { name: env.TERM, cols: o.cols ?? 80, rows: o.rows ?? 25, cwd: ROOT, env });
    const keep = o.keep ?? false;
    // A side that paints its screen (the friend's) is read through a terminal emulator: the text
    // up to the cursor, so "the prompt is back" means the same as on a plain terminal.
    const screen = o.painted ? new VirtualScreen({ cols: o.cols ?? 80, rows: o.rows ?? 25 }) : null;
    this.screenText = () => (screen ? textToCursor(screen) : null);
    this.readScreen = o.readScreen ?? Boolean(o.painted);
    this.p.onData((d) => {
      this.bytes += d.length;
      screen?.write(d);
      const s = this.tail + d;
      if (keep && this.all.length < 200_000) this.all += d;
      if (this.waiters.length) {
        const t = now();
        let shown: string | null = null; // the screen's text, worked out once and only if needed
        const seen = (w: Waiter) => w.test(s) || (screen !== null && w.screen && w.test((shown ??= textToCursor(screen))));
        this.waiters = this.waiters.filter((w) => {
          if (!seen(w)) return true;
          w.resolve(t);
          return false;
        });
      }
      this.tail = s.length > 4096 ? s.slice(-4096) : s;
    });
    this.exited = new Promise((resolve) =>
      this.p.onExit((e) => {
        this.exitedAt = now();
        resolve({ code: e.exitCode, signal: e.signal ?? 0 });
      }));
    onExit(this.exited);
    onCleanup(() => this.kill());
  }
  get pid() {
    return this.p.pid;
  }
  /** Forget the output so far: the next waitFor only looks at what comes after. */
  mark() {
    this.tail = '';
  }
  write(d: string) {
    this.p.write(d);
  }
  /** Resolves with the time the pattern showed up in the output since the last mark(). */
  waitFor(pattern: RegExp | string | ((s: string) => boolean), ms = 20_000, o: { screen?: boolean } = {}): Promise<number> {
    const test = typeof pattern === 'function' ? pattern : typeof pattern === 'string' ? (s: string) => s.includes(pattern) : (s: string) => pattern.test(s);
    const screen = o.screen ?? this.readScreen;
    const shown = screen ? this.screenText() : null;
    if (test(this.tail) || (shown !== null && test(shown))) return Promise.resolve(now());
    return new Promise((resolve, reject) => {
      const w: Waiter = { test, screen, resolve: (t) => { clearTimeout(timer); resolve(t); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: timed out after ${ms} ms waiting for ${String(pattern)}; tail: ${JSON.stringify(this.tail.slice(-300))}`));
      }, ms);
      this.waiters.push(w);
    });
  }
  signal(sig: NodeJS.Signals) {
    try {
      process.kill(this.p.pid, sig);
    } catch {
      // gone
    }
  }
  kill() {
    if (this.exitedAt) return;
    this.signal('SIGCONT');
    this.signal('SIGKILL');
  }
}

/** A painted screen's rows up to the cursor row, that row up to the cursor, joined by newlines. */
function textToCursor(screen: VirtualScreen): string {
  const c = screen.cursor();
  const rows: string[] = [];
  for (let y = 0; y < c.y; y++) rows.push(screen.line(y)?.translateToString(true) ?? '');
  rows.push(screen.line(c.y)?.translateToString(false, 0, c.x) ?? '');
  return rows.join('\n');
}

/** A shell prompt at the very end of the output (root's `# ` or a user's `$ `). */
export const PROMPT = (s: string) => /[#$] $/.test(s);
