// Test harness: runs real remote-help processes in real ptys (@lydell/node-pty), reads their screens and
// event logs, and waits on conditions instead of sleeping.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pty from '@lydell/node-pty';
import { after, type TestContext } from 'node:test';
import { killSession } from '../src/session/processes';
import { VirtualScreen } from '../src/session/screen';

export const ROOT = path.resolve(__dirname, '..');
/** The program under test: the checkout's launcher, or what REMOTE_HELP_BIN names (the bundle). */
/** The Node that runs it: this one, or what REMOTE_HELP_NODE names (Node 18, as Debian 12 ships). */
export const NODE = process.env.REMOTE_HELP_NODE ? path.resolve(ROOT, process.env.REMOTE_HELP_NODE) : process.execPath;
export const BIN = process.env.REMOTE_HELP_BIN ? path.resolve(ROOT, process.env.REMOTE_HELP_BIN) : path.join(ROOT, 'bin', 'remote-help');

// What this file's tests leave behind is removed when they are done, also when one fails: the
// temporary folders made here, and the sides started here that are still running (with their
// shells). sideFor and connectedPairWith({ t }) let a side go when its test ends; the rest go
// after the file's last test, and the folders at the latest when this process exits.
const folders = new Set<string>();
const sides = new Set<Side>();

function removeFolder(dir: string) {
  fs.rmSync(dir, { recursive: true, force: true });
  folders.delete(dir);
}

/** Kills a side and the shell session it started (a stopped side is continued first), then
 * removes its folder (its HOME and events file). */
export function release(s: Side) {
  sides.delete(s);
  s.kill('SIGCONT');
  s.kill();
  const started = s.events().find((e) => e.event === 'session-started' && e.pid !== undefined);
  if (started) killSession(Number(started.pid));
  removeFolder(path.dirname(s.eventsFile));
}

/** Releases every side still known and removes every folder; says which could not be removed. */
function leaveNothing() {
  for (const s of [...sides]) release(s);
  const failed: string[] = [];
  for (const dir of [...folders]) {
    try {
      removeFolder(dir);
    } catch (e) {
      failed.push(`${dir}: ${(e as Error).message}`);
    }
  }
  if (failed.length) throw new Error(`could not remove ${failed.join('; ')}`);
}
after(leaveNothing);
process.on('exit', () => {
  try {
    leaveNothing();
  } catch (e) {
    process.stderr.write(`harness: ${(e as Error).message}\n`);
  }
});

/** A new folder under the system's temporary folder, removed after this file's tests. */
export function tempDir(prefix = 'remote-help-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function until<T>(what: string, check: () => T | undefined | null | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Side {
  name: string;
  pid: number;
  eventsFile: string;
  output(): string;
  /** What the side's terminal shows now (its output run through a terminal emulator). */
  screen(): string;
  write(data: string | Buffer): void;
  waitFor(pattern: RegExp | string, ms?: number): Promise<void>;
  events(): { event: string; [k: string]: unknown }[];
  waitEvent(name: string, ms?: number): Promise<{ event: string; [k: string]: unknown }>;
  exited: Promise<{ code: number; signal: number }>;
  kill(signal?: string): void;
  resize(cols: number, rows: number): void;
  /** For `ms` the side runs a quarter of the time, so it falls behind (a busy machine). */
  starve(ms?: number): void;
}

/** The visible rows of a virtual screen, trailing spaces trimmed, joined by newlines. */
export function screenText(screen: VirtualScreen): string {
  const rows: string[] = [];
  for (let y = 0; y < screen.size.rows; y++) rows.push(screen.line(y)?.translateToString(true) ?? '');
  return rows.join('\n');
}

/** Starts `remote-help <args> --plain --session screen --events FILE` in a pty of the given size:
 * the steps as lines, the session painted, as most tests read it (`--session lines` in `args`
 * keeps the session as lines; `bin`: another copy of the program than BIN; `executable`: a
 * self-contained one, run without Node; `netns`: in that network namespace). */
export function startSide(name: string, args: string[], o: { cols?: number; rows?: number; env?: Record<string, string>; bin?: string; executable?: string; netns?: string } = {}): Side {
  const dir = tempDir();
  const eventsFile = path.join(dir, 'events.jsonl');
  // HOME is a fresh directory: the shared shell runs no dotfiles of the machine running the tests.
  const env = { ...process.env, TERM: 'xterm', LANG: 'C.UTF-8', HOME: dir, REMOTE_HELP_CONFIG_DIR: dir, REMOTE_HELP_STATE_DIR: dir, ...o.env } as Record<string, string>;
  const argv = [...args, '--plain', ...(args.includes('--session') ? [] : ['--session', 'screen']), '--events', eventsFile];
  const [file, ...rest] = [o.executable ?? NODE, ...(o.executable ? argv : [o.bin ?? BIN, ...argv])];
  // In a network namespace of the test's: `ip netns exec` execs the program, so its pid is ours.
  const p = pty.spawn(o.netns ? 'ip' : file, o.netns ? ['netns', 'exec', o.netns, file, ...rest] : rest, {
    name: env.TERM, cols: o.cols ?? 80, rows: o.rows ?? 25, cwd: ROOT, env,
  });
  let out = '';
  const screen = new VirtualScreen({ cols: o.cols ?? 80, rows: o.rows ?? 25 });
  p.onData((d) => {
    screen.write(d);
    out += d;
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  });
  let gone = false;
  const exited = new Promise<{ code: number; signal: number }>((resolve) =>
    p.onExit((e) => {
      gone = true; // reaped: its pid may belong to someone else from now on
      resolve({ code: e.exitCode, signal: e.signal ?? 0 });
    }));
  const events = () => {
    try {
      return fs.readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const side: Side = {
    name,
    pid: p.pid,
    eventsFile,
    output: () => out,
    screen: () => screenText(screen),
    write: (d) => p.write(typeof d === 'string' ? d : d.toString('binary')),
    // Either in what was written (lines that scrolled away) or on the screen now (the friend's
    // side paints its screen, so a line may arrive in pieces).
    waitFor: (pattern, ms = 10_000) =>
      until(`${name} to show ${pattern}`, () => {
        const has = (text: string) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
        return has(out) || has(screenText(screen));
      }, ms).then(() => {}),
    events,
    waitEvent: (ev, ms = 10_000) => until(`${name} event ${ev}`, () => events().find((e) => e.event === ev), ms),
    exited,
    resize: (cols, rows) => {
      p.resize(cols, rows);
      screen.resize({ cols, rows });
    },
    starve: (ms = 2000) => {
      // Stopped three quarters of the time: the side reads what arrives late and falls behind,
      // the way a program on a busy machine does.
      let on = true;
      const cycle = () => {
        if (!on || gone) return;
        side.kill('SIGSTOP');
        setTimeout(() => {
          side.kill('SIGCONT');
          setTimeout(cycle, 5);
        }, 15);
      };
      cycle();
      setTimeout(() => {
        on = false;
        side.kill('SIGCONT');
      }, ms);
    },
    kill: (signal = 'SIGKILL') => {
      if (gone) return;
      try {
        process.kill(p.pid, signal);
      } catch {
        // already gone
      }
    },
  };
  sides.add(side);
  return side;
}

/** The port a side waits on: the one in its first `listening` event (it was started with --port 0). */
export async function listeningPort(s: Side, ms = 10_000): Promise<number> {
  return Number((await s.waitEvent('listening', ms)).port);
}

/** Starts a side; when the test ends, whatever happened, it and any shell it started are killed
 * and its folder removed. */
export function sideFor(t: TestContext, name: string, args: string[]): Side {
  const s = startSide(name, args);
  t.after(() => release(s));
  return s;
}

/** From both sides showing the code to a running shared shell: the helper types the code the
 * friend's side shows, the friend presses y, and the helper sees the shell's first output. */
export async function confirmCode(friend: Side, helper: Side) {
  const shown = await friend.waitEvent('code-shown');
  const helperShown = await helper.waitEvent('code-shown');
  if (shown.code !== helperShown.code) throw new Error('codes differ without anyone in the middle');
  await helper.waitFor('Type the five symbols');
  helper.write(`${String(shown.code).toLowerCase()}\r`);
  await helper.waitFor('Ask your friend to press y');
  friend.write('y\r');
  const started = await friend.waitEvent('session-started');
  await helper.waitEvent('session-started');
  // The helper's keys count from the shell's first output on (see helper-session.ts): wait for it.
  const banner = 'To leave: press Enter, then type ~.';
  await until('the shell prompt on the helper side', () => {
    const out = helper.output();
    const i = out.lastIndexOf(banner);
    return i >= 0 && /\S/.test(out.slice(i + banner.length));
  });
  return { shellPid: Number(started.pid), code: String(shown.code) };
}

/** Brings a friend and a helper to a running shared shell and returns both sides. The waiting side
 * listens on a port the system picks (--port 0); the other dials the port in its `listening` event. */
export async function connectedPair(o: {
  reverse?: boolean;
  friendEnv?: Record<string, string>;
  friendSize?: { cols: number; rows: number };
  helperSize?: { cols: number; rows: number };
} = {}) {
  const friendOpts = { env: o.friendEnv, ...o.friendSize };
  let friend: Side;
  let helper: Side;
  let port: number;
  if (o.reverse) {
    friend = startSide('friend', ['friend', '--reverse', '--port', '0'], friendOpts);
    port = await listeningPort(friend);
    helper = startSide('helper', ['helper', '--reverse', `127.0.0.1:${port}`], { ...o.helperSize });
  } else {
    helper = startSide('helper', ['helper', '--port', '0'], { ...o.helperSize });
    port = await listeningPort(helper);
    friend = startSide('friend', ['friend', `127.0.0.1:${port}`], friendOpts);
  }
  return { friend, helper, port, ...(await confirmCode(friend, helper)) };
}

/** Pids of processes that still belong to the session whose leader was `sid`. */
export { sessionProcesses } from '../src/session/processes';

/** connectedPair with extra arguments for the friend (e.g. --view-only) and its environment;
 * direct connection only. With `t`, both sides and the shared shell are killed when the test ends,
 * whatever happened (a stopped helper is continued first). */
export async function connectedPairWith(o: {
  t?: TestContext;
  friendArgs?: string[];
  helperArgs?: string[];
  friendEnv?: Record<string, string>;
  helperEnv?: Record<string, string>;
} = {}) {
  const h = startSide('helper', ['helper', '--port', '0', ...(o.helperArgs ?? [])], { env: o.helperEnv });
  o.t?.after(() => release(h));
  const port = await listeningPort(h);
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`, ...(o.friendArgs ?? [])], { env: o.friendEnv });
  o.t?.after(() => release(friend));
  return { friend, helper: h, port, ...(await confirmCode(friend, h)) };
}
