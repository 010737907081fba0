// Benchmark plumbing: programs in real ptys with cheap output matching, an own OpenSSH server on a
// loopback port the system picks, a (optionally throttled) TCP proxy, /proc readings, and cleanup
// of everything.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as pty from 'node-pty';
import { VirtualScreen } from '../src/session/screen';

export const ROOT = path.resolve(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'remote-help');
export const now = () => performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup: everything we start is registered here and killed at the end, also on failure.

const cleanups: (() => void)[] = [];
export function onCleanup(f: () => void) {
  cleanups.push(f);
}
/** Exits of our direct children: waited for after cleanup, so none is left unreaped. */
const exits: Promise<unknown>[] = [];
export async function reaped(ms = 2000) {
  await Promise.race([Promise.all(exits), sleep(ms)]);
}
export function cleanupAll() {
  // Our whole process tree first (shells under sshd, floods under a friend's shell), children
  // before parents, then the registered cleanups (proxies, temporary files).
  killBottomUp(descendants(process.pid));
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      // best effort
    }
  }
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

// ---------------------------------------------------------------------------------------------
// Programs in ptys. Output is not kept: a short tail for matching and a byte count.

interface Waiter {
  test: (s: string) => boolean;
  resolve: (t: number) => void;
  /** Also look at the painted screen, not only the stream. */
  screen: boolean;
}

export class Term {
  readonly p: pty.IPty;
  tail = '';
  bytes = 0;
  /** What a painted side's screen shows up to the cursor; null for a side read as a stream. */
  private readonly screenText: () => string | null;
  /** Whether waits look at the screen too by default (else only when asked). */
  private readonly readScreen: boolean;
  all = '';
  exitedAt = 0;
  readonly exited: Promise<{ code: number; signal: number }>;
  private waiters: Waiter[] = [];
  constructor(readonly name: string, file: string, args: string[], o: { cols?: number; rows?: number; env?: Record<string, string>; keep?: boolean; painted?: boolean; readScreen?: boolean } = {}) {
    const env = { ...process.env, TERM: 'xterm', LANG: 'C.UTF-8', ...o.env } as Record<string, string>;
    this.p = pty.spawn(file, args, { name: env.TERM, cols: o.cols ?? 80, rows: o.rows ?? 25, cwd: ROOT, env });
    const keep = o.keep ?? false;
    // A side that paints its screen (the friend's) is read through a terminal emulator: the text
    // up to the cursor, so "the prompt is back" means the same as on a plain terminal.
    const screen = o.painted ? new VirtualScreen({ cols: o.cols ?? 80, rows: o.rows ?? 25 }) : null;
    this.screenText = () => (screen ? textToCursor(screen) : null);
    this.readScreen = o.readScreen ?? Boolean(o.painted);
    this.p.onData((d) => {
      this.bytes += d.length;
      screen?.write(d);
      const s = this.tail + d;
      if (keep && this.all.length < 200_000) this.all += d;
      if (this.waiters.length) {
        const t = now();
        let shown: string | null = null; // the screen's text, worked out once and only if needed
        const seen = (w: Waiter) => w.test(s) || (screen !== null && w.screen && w.test((shown ??= textToCursor(screen))));
        this.waiters = this.waiters.filter((w) => {
          if (!seen(w)) return true;
          w.resolve(t);
          return false;
        });
      }
      this.tail = s.length > 4096 ? s.slice(-4096) : s;
    });
    this.exited = new Promise((resolve) =>
      this.p.onExit((e) => {
        this.exitedAt = now();
        resolve({ code: e.exitCode, signal: e.signal ?? 0 });
      }));
    exits.push(this.exited);
    onCleanup(() => this.kill());
  }
  get pid() {
    return this.p.pid;
  }
  /** Forget the output so far: the next waitFor only looks at what comes after. */
  mark() {
    this.tail = '';
  }
  write(d: string) {
    this.p.write(d);
  }
  /** Resolves with the time the pattern showed up in the output since the last mark(). */
  waitFor(pattern: RegExp | string | ((s: string) => boolean), ms = 20_000, o: { screen?: boolean } = {}): Promise<number> {
    const test = typeof pattern === 'function' ? pattern : typeof pattern === 'string' ? (s: string) => s.includes(pattern) : (s: string) => pattern.test(s);
    const screen = o.screen ?? this.readScreen;
    const shown = screen ? this.screenText() : null;
    if (test(this.tail) || (shown !== null && test(shown))) return Promise.resolve(now());
    return new Promise((resolve, reject) => {
      const w: Waiter = { test, screen, resolve: (t) => { clearTimeout(timer); resolve(t); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: timed out after ${ms} ms waiting for ${String(pattern)}; tail: ${JSON.stringify(this.tail.slice(-300))}`));
      }, ms);
      this.waiters.push(w);
    });
  }
  signal(sig: NodeJS.Signals) {
    try {
      process.kill(this.p.pid, sig);
    } catch {
      // gone
    }
  }
  kill() {
    if (this.exitedAt) return;
    this.signal('SIGCONT');
    this.signal('SIGKILL');
  }
}

/** A shell prompt at the very end of the output (root's `# ` or a user's `$ `). */
/** A painted screen's rows up to the cursor row, that row up to the cursor, joined by newlines. */
function textToCursor(screen: VirtualScreen): string {
  const c = screen.cursor();
  const rows: string[] = [];
  for (let y = 0; y < c.y; y++) rows.push(screen.line(y)?.translateToString(true) ?? '');
  rows.push(screen.line(c.y)?.translateToString(false, 0, c.x) ?? '');
  return rows.join('\n');
}

export const PROMPT = (s: string) => /[#$] $/.test(s);

export async function until<T>(what: string, check: () => T | undefined | null | false, ms = 20_000, every = 2): Promise<T> {
  const deadline = now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// ---------------------------------------------------------------------------------------------
// Our own OpenSSH server on a loopback port the system picks: a listener of ours on port 0 hands
// each connection to a fresh `sshd -i` (inetd mode), the socket itself as its stdin and stdout, so
// no byte passes through this process. (`sshd -D` execs a fresh sshd per connection too.)

export interface Sshd {
  port: number;
  /** Every live process of every connection: the per-connection sshd and all below it. */
  processes(): number[];
  key: string;
  sshArgs(port?: number): string[];
  stop(): void;
}

const SSHD = '/usr/sbin/sshd';

function ensureOpenSsh() {
  const have = () => fs.existsSync(SSHD) && spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;
  if (have()) return;
  if (process.getuid?.() !== 0) throw new Error('OpenSSH (sshd and ssh) is missing and we are not root to install it: apt-get install openssh-server openssh-client');
  process.stderr.write('bench: installing openssh-server and openssh-client with apt-get...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'openssh-server', 'openssh-client']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 600_000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
  if (!have()) throw new Error('OpenSSH is still missing after apt-get install');
}

export async function startSshd(): Promise<Sshd> {
  ensureOpenSsh();
  const dir = tempDir('remote-help-bench-sshd-');
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error('ssh-keygen failed');
  };
  const hostKey = path.join(dir, 'host_key');
  const key = path.join(dir, 'client_key');
  keygen(hostKey);
  keygen(key);
  fs.copyFileSync(`${key}.pub`, path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin yes',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel ERROR',
    '',
  ].join('\n'));
  // The configuration is checked once up front, so a mistake is an error here, not a refused login.
  const check = spawnSync(SSHD, ['-t', '-f', config, '-h', hostKey], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`sshd -t failed: ${check.stderr}`);

  const conns = new Set<ChildProcess>();
  let err = '';
  // pauseOnConnect: this process never reads from the socket; sshd alone does.
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    const child = spawn(SSHD, ['-i', '-e', '-f', config, '-h', hostKey], { stdio: [sock, sock, 'pipe'] });
    sock.destroy(); // our copy of the socket; sshd has its own
    conns.add(child);
    exits.push(new Promise((r) => child.once('exit', r)));
    child.once('exit', () => conns.delete(child));
    child.once('error', (e) => (err = (err + e.message).slice(-2000)));
    child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const processes = () => [...conns].flatMap((c) => (c.pid && c.exitCode === null && c.signalCode === null ? [c.pid, ...descendants(c.pid)] : []));
  const stop = () => {
    server.close();
    // Every per-connection sshd and its shell, children first.
    killBottomUp(processes());
  };
  onCleanup(stop);
  return {
    port,
    processes,
    key,
    sshArgs: (p = port) => ['-tt', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'BatchMode=yes', '-i', key, '-p', String(p), 'root@127.0.0.1'],
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy on loopback: plain (to time the first connection) or a poor link (rate and delay).

export interface Link {
  rateBytesPerSec: number;
  oneWayDelayMs: number;
  /** Most bytes held per direction (a router queue) before the sender is paused. */
  queueBytes: number;
}

export interface Proxy {
  port: number;
  firstAccept: number; // performance.now() of the first accepted connection, 0 before
  close(): void;
}

export async function startProxy(target: number, link: Link | null): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const proxy: Proxy = { port: 0, firstAccept: 0, close: () => {} };
  const server = net.createServer({ noDelay: true } as net.ServerOpts, (a) => {
    if (!proxy.firstAccept) proxy.firstAccept = now();
    a.setNoDelay(true);
    const b = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
    sockets.add(a);
    sockets.add(b);
    const bothGo = () => {
      a.destroy();
      b.destroy();
    };
    a.on('error', bothGo);
    b.on('error', bothGo);
    if (!link) {
      a.pipe(b);
      b.pipe(a);
      a.on('close', bothGo);
      b.on('close', bothGo);
      return;
    }
    shape(a, b, link, timers);
    shape(b, a, link, timers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = () => {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    server.close();
  };
  onCleanup(proxy.close);
  return proxy;
}

function shape(src: net.Socket, dst: net.Socket, link: Link, timers: Set<NodeJS.Timeout>) {
  let nextFree = 0;
  let queued = 0;
  let lastAt = 0;
  const MTU = 1448;
  src.on('data', (chunk: Buffer) => {
    const t = now();
    for (let i = 0; i < chunk.length; i += MTU) {
      const piece = chunk.subarray(i, i + MTU);
      nextFree = Math.max(t, nextFree) + (piece.length * 1000) / link.rateBytesPerSec;
      const at = nextFree + link.oneWayDelayMs;
      lastAt = at;
      queued += piece.length;
      const timer = setTimeout(() => {
        timers.delete(timer);
        queued -= piece.length;
        if (!dst.destroyed) dst.write(piece);
        if (queued <= link.queueBytes && src.isPaused()) src.resume();
      }, Math.max(0, at - t));
      timers.add(timer);
    }
    if (queued > link.queueBytes) src.pause();
  });
  src.on('close', () => {
    const timer = setTimeout(() => dst.destroy(), Math.max(0, lastAt - now()) + 1);
    timers.add(timer);
  });
}

// ---------------------------------------------------------------------------------------------
// Statistics.

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
export const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
