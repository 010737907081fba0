// What the benchmark starts, how it finds and ends it, and what /proc says about it. Everything
// started is registered here and killed at the end, also on failure or Ctrl-C.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export const ROOT = path.resolve(__dirname, '..');
/** The program under test: the checkout's launcher, or what REMOTE_HELP_BIN names (the bundle). */
export const BIN = process.env.REMOTE_HELP_BIN ? path.resolve(ROOT, process.env.REMOTE_HELP_BIN) : path.join(ROOT, 'bin', 'remote-help');
export const now = () => performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, check: () => T | undefined | null | false, ms = 20_000, every = 2): Promise<T> {
  const deadline = now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup: everything we start is registered here and killed at the end, also on failure.

const cleanups: (() => void)[] = [];
export function onCleanup(f: () => void) {
  cleanups.push(f);
}
/** Exits of our direct children: waited for after cleanup, so none is left unreaped. */
const exits: Promise<unknown>[] = [];
export function onExit(exited: Promise<unknown>) {
  exits.push(exited);
}
export async function reaped(ms = 2000) {
  await Promise.race([Promise.all(exits), sleep(ms)]);
}
export function cleanupAll() {
  // Our whole process tree first (shells under sshd, floods under a friend's shell), children
  // before parents, then the registered cleanups (listeners, proxies, temporary files).
  killBottomUp(descendants(process.pid));
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      // best effort
    }
  }
}

/** A temporary directory, removed at the end. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const pause = new Int32Array(new SharedArrayBuffer(4));
function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z';
}

/**
 * SIGKILLs pids children first, waiting for each layer to be reaped by its (still living) parent,
 * so nothing is left as a zombie under an init that does not reap. Synchronous, at most maxMs.
 */
export function killBottomUp(pids: number[], maxMs = 2000) {
  const deadline = Date.now() + maxMs;
  let left = pids.filter(alive);
  while (left.length && Date.now() < deadline) {
    const parents = new Set(left.map((p) => stat(p)?.ppid));
    for (const p of left) {
      if (parents.has(p) && Date.now() < deadline - 200) continue; // a parent: after its children
      try {
        process.kill(p, 'SIGCONT');
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    Atomics.wait(pause, 0, 0, 10);
    // Gone means reaped; a zombie still waits for its parent, so the parent is not killed yet.
    left = left.filter((p) => {
      const s = stat(p);
      return s !== null && !(s.state === 'Z' && s.ppid === 1);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

function stat(pid: number): { ppid: number; state: string } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]) };
  } catch {
    return null;
  }
}

/** All live descendants of pid (by parent links in /proc). */
export function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s || s.state === 'Z') continue;
    const list = kids.get(s.ppid) ?? [];
    list.push(Number(name));
    kids.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [...(kids.get(root) ?? [])];
  while (todo.length && out.length < 10_000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

export function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Peak resident set size (VmHWM) in MB, or NaN when the process is gone. */
export function peakRssMB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}
