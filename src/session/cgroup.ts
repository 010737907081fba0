// A control group of its own for the shared shell, where cgroup v2 lets us make one (as root, or
// where the system delegated ours): `setsid`, `setsid -f` and double forks leave the shell's
// session (processes.ts), but not its cgroup, and writing 1 to cgroup.kill ends every process in
// it at once (Linux 5.14 and later). Where no cgroup can be made, killing the session is all
// there is, and the end of the session says which processes got away (leftovers.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { processAlive } from '../system';

const PREFIX = 'remote-help-';

export interface ShellGroup {
  /** The cgroup.procs file a process writes its pid into to join. */
  procs: string;
  /** Kills every process in it; never throws. */
  kill(): void;
  /** Removes it once it is empty (soon after kill); never throws. */
  remove(): void;
}

/** Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo; null when it is not. */
export function cgroup2Mount(mountinfo = readOr('/proc/self/mountinfo')): string | null {
  for (const line of mountinfo.split('\n')) {
    // "id parent major:minor root mountpoint options ... - fstype source superoptions"
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] === 'cgroup2') return left.split(' ')[4] ?? null;
  }
  return null;
}

/** This process's cgroup in the v2 hierarchy ("0::/path" in /proc/self/cgroup). */
export function ownCgroup(cgroup = readOr('/proc/self/cgroup')): string | null {
  const line = cgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : null;
}

/** A new, empty cgroup beside this process's own, or null where none can be made. */
export function makeShellGroup(pid = process.pid): ShellGroup | null {
  const mount = cgroup2Mount();
  const own = ownCgroup();
  if (!mount || own === null) return null;
  const dir = path.join(mount, own, `${PREFIX}${pid}`);
  try {
    fs.mkdirSync(dir);
    if (!fs.existsSync(path.join(dir, 'cgroup.kill'))) throw new Error('no cgroup.kill (Linux before 5.14)');
    fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
  } catch {
    removeQuietly(dir);
    return null;
  }
  return {
    procs: path.join(dir, 'cgroup.procs'),
    kill: () => write(path.join(dir, 'cgroup.kill'), '1'),
    remove: () => removeWhenEmpty(dir),
  };
}

/** Kills and removes groups a crashed remote-help left beside ours (their pid is gone). */
export function sweepShellGroups(): void {
  const mount = cgroup2Mount();
  const own = ownCgroup();
  if (!mount || own === null) return;
  const parent = path.join(mount, own);
  let names: string[] = [];
  try {
    names = fs.readdirSync(parent).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(PREFIX.length));
    if (!Number.isInteger(pid) || processAlive(pid)) continue;
    write(path.join(parent, name, 'cgroup.kill'), '1');
    removeWhenEmpty(path.join(parent, name));
  }
}

/** The shell run so that it joins `procs` before it starts (nothing it forks is left outside). */
export function inGroup(procs: string, file: string, args: string[]): { file: string; args: string[] } {
  return { file: '/bin/sh', args: ['-c', 'echo $$ > "$1" 2>/dev/null; shift; exec "$@"', 'sh', procs, file, ...args] };
}

function removeWhenEmpty(dir: string, tries = 20): void {
  if (removeQuietly(dir) || tries <= 0) return;
  setTimeout(() => removeWhenEmpty(dir, tries - 1), 50).unref();
}

function removeQuietly(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function write(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch {
    // gone already, or not ours: the session's own kill still runs
  }
}


function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
