// The shared pseudo-terminal without any addon: util-linux's `script` (in an Essential package,
// so on every Debian and Ubuntu install) runs the shell on a pty of its own and copies between it
// and our pipes. Used where no prebuilt pty addon loads (pty.ts). `script`'s child, which becomes
// the shell, leads the session; resizing writes the new size to that pty with `stty -F`, and the
// kernel tells the shell (SIGWINCH).
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { readFileSync, readlinkSync } from 'node:fs';
import type { TermSize } from './size';

export interface RawPty {
  readonly pid: number;
  onData(cb: (data: Buffer) => void): void;
  onExit(cb: (code: number, signal: number) => void): void;
  write(data: Buffer | string): void;
  resize(size: TermSize): void;
  /** Stops reading the shell's output for a while (the shell then waits when it writes), and
   * reads it again: a copy (friend-files.ts) delivers every byte to a slower helper this way. */
  pause(): void;
  resume(): void;
  /** Kills the program that holds the pty (the shell's session is killed by the caller). */
  kill(): void;
}

/** A word for sh -c, quoted so that nothing in it is special. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** How long the shell's process may take to appear under `script`. */
const FIND_CHILD_MS = 2000;

function childOf(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/** The first child of `pid`, waited for synchronously (a few milliseconds, once per session). */
function waitForChild(pid: number): number | null {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + FIND_CHILD_MS;
  for (;;) {
    const child = childOf(pid);
    if (child || Date.now() > deadline) return child;
    Atomics.wait(nap, 0, 0, 2);
  }
}

/**
 * Runs `run` (a program and its arguments, the last of which may be the shell) under `script`:
 * `wrap` lets the caller put `script` itself inside something (a cgroup: cgroup.ts inGroup).
 */
export function scriptPty(o: {
  shell: { file: string; args: string[] };
  wrap(file: string, args: string[]): { file: string; args: string[] };
  size: TermSize;
  env: Record<string, string>;
  cwd: string;
}): RawPty {
  // `script -c` runs its command with $SHELL -c: a plain sh here, and the user's SHELL is put back
  // before the shell starts. The size is set inside the pty before the shell reads it.
  const command = [
    `SHELL=${shQuote(o.env.SHELL ?? o.shell.file)}; export SHELL;`,
    `stty rows ${o.size.rows} cols ${o.size.cols} 2>/dev/null;`,
    `exec ${[o.shell.file, ...o.shell.args].map(shQuote).join(' ')}`,
  ].join(' ');
  const run = o.wrap('script', ['-qfec', command, '/dev/null']);
  const child = spawn(run.file, run.args, {
    cwd: o.cwd,
    env: { ...o.env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // a session of its own, like an addon's pty: nothing of ours is in it
  });
  child.stdin.on('error', () => {}); // the shell ended while keys were on their way
  const scriptPid = child.pid ?? 0;
  const shellPid = scriptPid ? waitForChild(scriptPid) : null;
  let pts: string | null = null;
  const ptsPath = () => {
    if (pts || !shellPid) return pts;
    try {
      const p = readlinkSync(`/proc/${shellPid}/fd/0`);
      if (p.startsWith('/dev/pts/')) pts = p;
    } catch {
      // not yet, or gone
    }
    return pts;
  };
  let gone = false;
  child.on('exit', () => (gone = true));
  return {
    pid: shellPid ?? scriptPid,
    onData(cb) {
      child.stdout.on('data', cb);
      child.stderr.on('data', cb); // script's own complaints, shown like the shell's output
    },
    onExit(cb) {
      child.on('exit', (code, signal) => cb(code ?? 0, signal ? constants.signals[signal] ?? 0 : 0));
      child.on('error', () => cb(127, 0)); // script could not be started at all
    },
    write(data) {
      if (!gone && child.stdin.writable) child.stdin.write(data);
    },
    pause: () => child.stdout.pause(),
    resume: () => child.stdout.resume(),
    resize(size) {
      const p = ptsPath();
      if (gone || !p) return;
      spawnSync('stty', ['-F', p, 'rows', String(size.rows), 'cols', String(size.cols)], { stdio: 'ignore', timeout: 2000 });
    },
    kill() {
      if (gone || !scriptPid) return;
      try {
        process.kill(scriptPid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
