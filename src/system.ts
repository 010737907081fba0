// Small facts about this machine that several parts ask: where a system program is, whether a
// process is still there, and who runs this program where.
import { accessSync, constants } from 'node:fs';
import * as os from 'node:os';

/** The path of a system program (network and firewall tools live in sbin), or null. */
export function systemTool(name: string): string | null {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not there, or not a program
    }
  }
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

/** Who runs this program, as the other person is told (os.userInfo fails without a passwd entry). */
export function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export const hostname = (): string => os.hostname();

/** A helper program that must not outlive remote-help, even one killed with SIGKILL (x11vnc, the
 * desktop's End window, a viewer): started through util-linux's setpriv with a parent-death
 * signal where it is installed. Returns the file and arguments to spawn. */
export function diesWithUs(file: string, args: string[], signal: 'TERM' | 'KILL' = 'TERM'): [string, string[]] {
  const setpriv = systemTool('setpriv');
  return setpriv ? [setpriv, ['--pdeathsig', signal, file, ...args]] : [file, args];
}
