// The shared pseudo-terminal: the only file that imports node-pty. The rest of the session sees
// the small Pty interface, so tests can put a fake in its place.
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodePty from 'node-pty';
import { inGroup, makeShellGroup, sweepShellGroups } from './cgroup';
import { SESSION_TAG, sessionTag } from './leftovers';
import { killSession } from './processes';
import type { TermSize } from './size';

export interface Pty {
  readonly pid: number;
  onData(cb: (data: Buffer) => void): void;
  onExit(cb: (code: number, signal: number) => void): void;
  write(data: Buffer | string): void;
  resize(size: TermSize): void;
  /** Kills the shell and every process it started (its session and, where there is one, its
   * cgroup: cgroup.ts). */
  kill(): void;
}

const LOGIN_FLAG_SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'ksh', 'mksh', 'fish', 'tcsh', 'csh']);

/** The login shell of the user running the program, as a login shell. */
export function loginShell(): { file: string; args: string[] } {
  let file = '/bin/sh';
  try {
    file = os.userInfo().shell || process.env.SHELL || '/bin/sh';
  } catch {
    file = process.env.SHELL || '/bin/sh';
  }
  return { file, args: LOGIN_FLAG_SHELLS.has(path.basename(file)) ? ['-l'] : [] };
}

export function spawnShell(size: TermSize, term: string): Pty {
  const login = loginShell();
  sweepShellGroups(); // what a crashed remote-help left
  const group = makeShellGroup();
  const shell = group ? inGroup(group.procs, login.file, login.args) : login;
  // Every process of the session inherits this tag unless it clears its environment on purpose:
  // at the end, any still running is named to the friend (leftovers.ts).
  const env = { ...process.env, TERM: term, [SESSION_TAG]: sessionTag() } as Record<string, string>;
  const p = nodePty.spawn(shell.file, shell.args, {
    name: term,
    cols: size.cols,
    rows: size.rows,
    cwd: os.homedir(),
    env,
    encoding: null,
  });
  let killed = false;
  return {
    pid: p.pid,
    onData: (cb) => p.onData((d) => cb(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d as Uint8Array))),
    onExit: (cb) => p.onExit((e) => cb(e.exitCode, e.signal ?? 0)),
    write: (data) => {
      if (!killed) p.write(data);
    },
    resize: (s) => {
      if (!killed) p.resize(s.cols, s.rows);
    },
    kill: () => {
      if (killed) return;
      killed = true;
      group?.kill();
      killSession(p.pid, 'SIGKILL');
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
      group?.remove();
    },
  };
}
