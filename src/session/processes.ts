// Ending the session kills everything it started (DESIGN.md section 4). node-pty's child calls
// setsid(), so the shell leads a session of its own, and every process it starts keeps that
// session id, even background jobs the shell moved to their own process groups and orphans
// reparented to init. Only setsid/daemonising escapes it. We find them through Linux /proc.

import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** one-letter state (proc(5)): R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  sid: number;
  /** the foreground process group of the process's terminal (-1: none) */
  tpgid: number;
}

/**
 * Parse /proc/PID/stat (proc(5)): "pid (comm) state ppid pgrp session ...". comm is the
 * executable name in parentheses and may itself contain spaces and ')', so the fields are read
 * after the LAST ')'.
 */
export function parseStat(line: string): ProcStat | null {
  const open = line.indexOf(' (');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open));
  const [state, ppid, pgrp, sid, , tpgid] = line.slice(close + 1).trim().split(/\s+/);
  const numbers = [pid, Number(ppid), Number(pgrp), Number(sid), Number(tpgid ?? -1)];
  if (!state || !numbers.every(Number.isInteger)) return null;
  return { pid, state, ppid: numbers[1], pgrp: numbers[2], sid: numbers[3], tpgid: numbers[4] };
}

function readStat(pid: string): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone between readdir and read, or not ours to read
  }
}

/** Whether the shell `pid` has its terminal to itself (at its prompt): null when it does, else
 * the name of the program in the foreground (its process group's leader, or what is known). */
export function foregroundProgram(pid: number): string | null {
  const shell = readStat(String(pid));
  if (!shell || shell.tpgid <= 0 || shell.tpgid === shell.pgrp) return null;
  try {
    return readFileSync(`/proc/${shell.tpgid}/comm`, 'utf8').trim() || 'a program';
  } catch {
    return 'a program';
  }
}

/** Live processes (zombies excluded: they are dead, just not yet reaped) in session sid. */
export function sessionProcesses(sid: number): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat && stat.sid === sid && stat.state !== 'Z' && stat.state !== 'X') pids.push(stat.pid);
  }
  return pids;
}

function signal(target: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(target, sig);
    return true;
  } catch {
    return false; // already gone (ESRCH) or not permitted (EPERM): nothing more we can do
  }
}

// A process may fork while we go through the list; look again until a pass finds nobody new.
const MAX_PASSES = 4;

/**
 * Send sig (default SIGKILL) to every process of session sid, and to the process group -sid.
 * Returns the pids signalled. Never throws. Refuses sid <= 1 and never signals this process,
 * so a wrong sid cannot take down init or remote-help itself.
 */
export function killSession(sid: number, sig: NodeJS.Signals = 'SIGKILL'): number[] {
  if (!Number.isInteger(sid) || sid <= 1) return [];
  const tried = new Set<number>([process.pid]);
  const signalled: number[] = [];
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const fresh = sessionProcesses(sid).filter((pid) => !tried.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      tried.add(pid);
      if (signal(pid, sig)) signalled.push(pid);
    }
  }
  // The shell's own group too: it catches a child forked after our last look.
  signal(-sid, sig);
  return signalled;
}
