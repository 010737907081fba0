// The shared pseudo-terminal: the only file that loads a pty addon, and only when a shell is
// spawned (the wizard, the helper and --help never need one). In order of preference: the
// prebuilt addon that ships inside its npm package (@lydell/node-pty: nothing to compile), then
// node-pty where it was built, then util-linux's `script` (pty-script.ts), which needs no addon at
// all. REMOTE_HELP_PTY names one of them to use it alone ('script' forces the fallback). The rest
// of the session sees the small Pty interface, so tests can put a fake in its place.
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as NodePty from '@lydell/node-pty';
import { inGroup, makeShellGroup, sweepShellGroups } from './cgroup';
import { SESSION_TAG, sessionTag } from './leftovers';
import { killSession } from './processes';
import { scriptPty, type RawPty } from './pty-script';
import type { TermSize } from './size';

/** The shared shell's pty, whatever holds it (an addon's or `script`'s, both a RawPty). */
export interface Pty extends RawPty {
  /** What runs the pty: an addon's package name, or 'script'. */
  readonly via: string;
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

const ADDONS = ['@lydell/node-pty', 'node-pty'];

let addonRequire: (id: string) => unknown = require;

/** Load pty addons from `dir/node_modules` (where the self-contained executable wrote its own);
 * null: there are none (the executable could not write them out). */
export function loadAddonsFrom(dir: string | null): void {
  addonRequire = dir ? createRequire(path.join(dir, 'remote-help.js')) : (id) => {
    throw new Error(`${id} was not written out`);
  };
}

/** The first pty addon that loads (of those REMOTE_HELP_PTY allows), and why the others did not. */
export function loadPtyAddon(env: NodeJS.ProcessEnv = process.env): { name: string; mod: typeof NodePty } | { name: null; why: string[] } {
  const forced = env.REMOTE_HELP_PTY?.trim();
  const why: string[] = [];
  for (const name of ADDONS) {
    if (forced && forced !== name) continue;
    try {
      return { name, mod: addonRequire(name) as typeof NodePty };
    } catch (e) {
      why.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { name: null, why };
}

function addonPty(mod: typeof NodePty, shell: { file: string; args: string[] }, size: TermSize, env: Record<string, string>, term: string): RawPty {
  const p = mod.spawn(shell.file, shell.args, { name: term, cols: size.cols, rows: size.rows, cwd: os.homedir(), env, encoding: null });
  return {
    pid: p.pid,
    onData: (cb) => p.onData((d) => cb(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d as Uint8Array))),
    onExit: (cb) => p.onExit((e) => cb(e.exitCode, e.signal ?? 0)),
    write: (data) => p.write(data as string), // its types say string; it writes Buffers as they are
    resize: (s) => p.resize(s.cols, s.rows),
    pause: () => p.pause(),
    resume: () => p.resume(),
    kill: () => p.kill('SIGKILL'),
  };
}

export function spawnShell(size: TermSize, term: string): Pty {
  const login = loginShell();
  sweepShellGroups(); // what a crashed remote-help left
  const group = makeShellGroup();
  const wrap = (file: string, args: string[]) => (group ? inGroup(group.procs, file, args) : { file, args });
  // Every process of the session inherits this tag unless it clears its environment on purpose:
  // at the end, any still running is named to the friend (leftovers.ts).
  const env = { ...process.env, TERM: term, [SESSION_TAG]: sessionTag() } as Record<string, string>;
  const addon = process.env.REMOTE_HELP_PTY?.trim() === 'script' ? null : loadPtyAddon();
  const p = addon?.name
    ? addonPty(addon.mod, wrap(login.file, login.args), size, env, term)
    : scriptPty({ shell: login, wrap, size, env, cwd: os.homedir() });
  let killed = false;
  return {
    pid: p.pid,
    via: addon?.name ?? 'script',
    onData: (cb) => p.onData(cb),
    onExit: (cb) => p.onExit(cb),
    write: (data) => {
      if (!killed) p.write(data);
    },
    resize: (s) => {
      if (!killed) p.resize(s);
    },
    pause: () => p.pause(),
    resume: () => p.resume(),
    kill: () => {
      if (killed) return;
      killed = true;
      group?.kill();
      killSession(p.pid, 'SIGKILL');
      try {
        p.kill();
      } catch {
        // already gone
      }
      group?.remove();
    },
  };
}
