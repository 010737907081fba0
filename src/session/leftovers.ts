// What a session may have left behind when it ended, for the friend to know. Every process of the
// session carries a tag in its environment (pty.ts); one still running after the kill left the
// shell's session and cgroup (a root helper can move a process out of the cgroup). And a root
// helper can leave scheduled jobs: cron and at entries, systemd timers, which run later on their
// own.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The environment variable every process of the session inherits, and its value here. */
export const SESSION_TAG = 'REMOTE_HELP_SESSION';
export const sessionTag = (pid = process.pid) => `${pid}`;

export interface Leftover {
  pid: number;
  name: string;
}

/** Processes still running that carry this session's tag in their environment (readable as root,
 * or for processes of the same user): the shell's kill missed them. */
export function taggedProcesses(tag = sessionTag()): Leftover[] {
  const needle = Buffer.from(`\0${SESSION_TAG}=${tag}\0`);
  const first = Buffer.from(`${SESSION_TAG}=${tag}\0`);
  const found: Leftover[] = [];
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`);
      if (!env.includes(needle) && !env.subarray(0, first.length).equals(first)) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      found.push({ pid: Number(name), name: stat.slice(stat.indexOf(' (') + 2, stat.lastIndexOf(')')) });
    } catch {
      // gone meanwhile, or not ours to read
    }
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
    parts.push(`These programs of the session are still running: ${list}${orphans.length > 8 ? ', ...' : ''}.`);
  }
  if (jobs.length > 0) parts.push(`These scheduled-job files changed during the session: ${jobs.slice(0, 8).join(', ')}${jobs.length > 8 ? ', ...' : ''}.`);
  if (parts.length === 0) return '';
  return `${parts.join(' ')} Ask someone you trust to check them.`;
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
