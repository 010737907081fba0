// Small facts about this machine that several parts ask: where a system program is, and whether
// a process is still there.
import { existsSync } from 'node:fs';

/** The path of a system program (network and firewall tools live in sbin), or null. */
export function systemTool(name: string): string | null {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return null;
}

/** Whether a process with this PID exists (one of another user's counts too). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
