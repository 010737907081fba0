// What a session may have left behind when it ended, for the friend to know. A process that left
// the shell's session and cgroup and was orphaned (`setsid -f`, a double fork, a root helper
// moving it out of the cgroup) now has init, or a "subreaper" above this program (a user's
// systemd, a terminal), as its parent; one started during the session is most likely the helper's. And a root helper can leave
// scheduled jobs: cron and at entries, systemd timers, which run later on their own.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** /proc counts process start times in clock ticks of this length (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

export interface Leftover {
  pid: number;
  name: string;
}

/** Orphaned processes started at or after `sinceMs`: their parent is init or one of this
 * program's ancestors (where orphans go), never this program itself. */
export function orphansSince(sinceMs: number): Leftover[] {
  const boot = bootTimeMs();
  if (boot === null) return [];
  const adopters = ancestors();
  const found: Leftover[] = [];
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let line: string;
    try {
      line = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const open = line.indexOf(' (');
    const close = line.lastIndexOf(')');
    const fields = line.slice(close + 1).trim().split(/\s+/);
    // fields[0] is stat field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime)
    const [state, ppid, start] = [fields[0], Number(fields[1]), Number(fields[19])];
    if (!adopters.has(ppid) || state === 'Z' || state === 'X' || !Number.isFinite(start)) continue;
    if (boot + start * TICK_MS < sinceMs - 1000) continue; // a second of slack for the clock's rounding
    found.push({ pid: Number(name), name: line.slice(open + 2, close) });
  }
  return found;
}

/** Where scheduled jobs are kept (cron, at, systemd timers), for root and for `home`. */
export function jobPlaces(home: string): string[] {
  return [
    '/etc/crontab', '/etc/cron.d', '/etc/cron.hourly', '/etc/cron.daily', '/var/spool/cron/crontabs',
    '/var/spool/cron/atjobs', '/etc/systemd/system', '/run/systemd/system', '/run/systemd/transient',
    path.join(home, '.config', 'systemd', 'user'),
  ];
}

/** Files in `places` (and one level below) changed at or after `sinceMs`. */
export function changedSince(sinceMs: number, places: string[]): string[] {
  const changed: string[] = [];
  const look = (file: string, depth: number) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (depth > 0) for (const n of safeReaddir(file)) look(path.join(file, n), depth - 1);
    } else if (st.mtimeMs >= sinceMs - 1000) changed.push(file);
  };
  for (const p of places) look(p, 2);
  return changed;
}

/** One or two sentences for the friend's last screen, or '' when nothing was left. */
export function describeLeftovers(orphans: Leftover[], jobs: string[]): string {
  const parts: string[] = [];
  if (orphans.length > 0) {
    const list = orphans.slice(0, 8).map((p) => `${printable(p.name)} (${p.pid})`).join(', ');
    parts.push(`These programs started during the session are still running: ${list}${orphans.length > 8 ? ', ...' : ''}.`);
  }
  if (jobs.length > 0) parts.push(`These scheduled-job files changed during the session: ${jobs.slice(0, 8).join(', ')}${jobs.length > 8 ? ', ...' : ''}.`);
  if (parts.length === 0) return '';
  return `${parts.join(' ')} Ask someone you trust to check them.`;
}

/** init and every process above this one (pid 1 first, this process excluded). */
function ancestors(): Set<number> {
  const found = new Set<number>([1]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !found.has(pid); i++) {
    found.add(pid);
    try {
      const line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(line.slice(line.lastIndexOf(')') + 1).trim().split(/\s+/)[1]);
    } catch {
      break;
    }
  }
  return found;
}

function bootTimeMs(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** A process name can hold anything but NUL and newline... of a program's choosing. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}
