// The friend's desktop (the specification: "if the friend has an X session running, the helper
// gets it over VNC"): finding the graphical session, and sharing it with x11vnc for this session
// only. x11vnc listens on this machine's loopback, on a port of its own, and asks for a password
// made fresh for the session, which only the helper's program learns (inside the verified SSH
// link), so no other local user or program can attach. The helper reaches it through the friend's
// SSH server, which forwards to that one port while the friend shares the screen (ssh-friend.ts).
// Stopped on every ending; an x11vnc that remote-help did not start is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshVncPassword } from '../net/vncauth';
import { diesWithUs, systemTool } from '../system';

export type DesktopFound =
  | { kind: 'x11'; display: string; auth: string | null }
  | { kind: 'none'; why: string; wayland?: boolean };

const readText = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const pids = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));

/** The X server's own -auth file for display `:n`, from its command line (Xorg, Xvfb, Xwayland). */
function serverAuth(n: string): string | null {
  for (const pid of pids()) {
    const args = readText(`/proc/${pid}/cmdline`).split('\0');
    if (!/(^|\/)(Xorg|X|Xvfb|Xwayland)$/.test(args[0] ?? '') || !args.includes(`:${n}`)) continue;
    const i = args.indexOf('-auth');
    if (i > 0 && args[i + 1]) return args[i + 1];
  }
  return null;
}

/** XAUTHORITY of a process in that X session (the person's own programs), when running as root. */
function sessionAuth(n: string): string | null {
  for (const pid of pids()) {
    const env = readText(`/proc/${pid}/environ`).split('\0');
    if (!env.includes(`DISPLAY=:${n}`) && !env.includes(`DISPLAY=:${n}.0`)) continue;
    const auth = env.find((e) => e.startsWith('XAUTHORITY='))?.slice('XAUTHORITY='.length);
    if (auth && fs.existsSync(auth)) return auth;
  }
  return null;
}

/** The graphical session to share: this program's own (DISPLAY), else, from a console or as root,
 * a running X server's. A Wayland session cannot be shared this way: that is said. */
export function findDesktop(env: NodeJS.ProcessEnv = process.env): DesktopFound {
  const wayland = env.WAYLAND_DISPLAY || env.XDG_SESSION_TYPE === 'wayland';
  if (wayland)
    return { kind: 'none', wayland: true, why: 'This is a Wayland desktop: remote-help can share the shell here, not the screen (share the screen with the desktop\'s own screen sharing).' };
  if (env.DISPLAY && /^:\d+(\.\d+)?$/.test(env.DISPLAY)) {
    const home = env.HOME ?? os.homedir();
    const auth = env.XAUTHORITY || (fs.existsSync(path.join(home, '.Xauthority')) ? path.join(home, '.Xauthority') : null);
    return { kind: 'x11', display: env.DISPLAY, auth };
  }
  let sockets: string[] = [];
  try {
    sockets = fs.readdirSync('/tmp/.X11-unix').filter((s) => /^X\d+$/.test(s));
  } catch {
    // no X server on this machine
  }
  for (const s of sockets.sort()) {
    const n = s.slice(1);
    const auth = serverAuth(n) ?? sessionAuth(n);
    if (auth || process.getuid?.() !== 0) return { kind: 'x11', display: `:${n}`, auth };
  }
  return { kind: 'none', why: 'No graphical desktop is running on this computer: remote-help shares the shell.' };
}

/** What the friend's steps 5 and 6 offer: sharing the screen too, or why it cannot be (null:
 * nothing worth saying, as on a text console). */
export function desktopOffer(d: DesktopFound, listening: number[] = vncListening()): { available: boolean; note: string | null } {
  if (d.kind !== 'x11') return { available: false, note: d.wayland ? d.why : null };
  if (!systemTool('x11vnc')) return { available: false, note: 'Your screen cannot be shared: x11vnc is not installed (apt-get install x11vnc).' };
  return { available: true, note: listening.length === 0 ? null
    : `A VNC server already runs here (port ${listening.join(', ')}): remote-help leaves it alone and shares your screen with one of its own, for this session only.` };
}

/** The VNC ports (5900-5999) something listens on here, from the kernel's socket tables. */
function vncListening(): number[] {
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readText(table).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const port = parseInt(f[1]?.split(':')[1] ?? '', 16);
      if (f[3] === '0A' && port >= 5900 && port <= 5999) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export interface SharedDesktop {
  /** The loopback port x11vnc listens on, and the session's password (8 characters: VNC's most). */
  port: number;
  password: string;
  /** What the display is called, for the screens: ":0". */
  display: string;
  /** x11vnc's process. */
  pid: number;
  /** The helper may move the pointer and type on the desktop, or only watch (x11vnc, at run time);
   * resolves once x11vnc has taken the change. */
  viewOnly(on: boolean): Promise<void>;
  /** The desktop stopped by itself (x11vnc exited): `why` in plain words. */
  onStopped(cb: (why: string) => void): void;
  /** Stops x11vnc: SIGTERM, then SIGKILL after 2 s; resolves once it is gone. */
  stop(): Promise<void>;
}

/** A free port on loopback, for x11vnc to take at once. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Until x11vnc answers on `port` with the RFB greeting, or `ms` pass. */
async function answers(port: number, ms: number, child: ChildProcess): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && child.exitCode === null) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.setTimeout(1000, () => (s.destroy(), resolve(false)));
      s.once('data', (b) => (s.destroy(), resolve(b.toString('latin1').startsWith('RFB '))));
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 150));
  }
  return false;
}

/** Starts x11vnc on the desktop for this session. A string says in plain words why it could not. */
export async function shareDesktop(d: Extract<DesktopFound, { kind: 'x11' }>, o: { viewOnly: boolean }): Promise<SharedDesktop | string> {
  const x11vnc = systemTool('x11vnc');
  if (!x11vnc) return 'x11vnc is not installed, so the screen cannot be shared (Debian: apt-get install x11vnc). The shell is shared.';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-help-desktop-'));
  // Letters and digits only (vncauth.ts): nothing x11vnc could read as anything but the password.
  // x11vnc reads it at the start and removes it ("rm:"), and keeps the password in memory only,
  // so nothing of it is left on disk, even if remote-help is killed.
  const password = freshVncPassword();
  const passwd = path.join(dir, 'passwd');
  fs.writeFileSync(passwd, `${password}\n`, { mode: 0o600 });
  const port = await freePort();
  const env = { ...process.env, ...(d.auth ? { XAUTHORITY: d.auth } : {}) };
  const args = ['-display', d.display, ...(d.auth ? ['-auth', d.auth] : []), '-localhost', '-rfbport', String(port),
    '-passwdfile', `rm:${passwd}`, '-forever', '-quiet', '-nopw', '-noxdamage',
    ...(o.viewOnly ? ['-viewonly'] : [])];
  // KILL: an x11vnc whose display has gone away can ignore SIGTERM.
  const child = spawn(...diesWithUs(x11vnc, args, 'KILL'), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr!.on('data', (b: Buffer) => (said = (said + b.toString()).slice(-4096)));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const stopped: ((why: string) => void)[] = [];
  let stopping = false;
  child.on('exit', () => {
    if (!stopping) for (const cb of stopped) cb('The screen sharing stopped by itself (x11vnc ended).');
  });
  const up = await answers(port, 10_000, child);
  cleanup();
  if (!up) {
    const log = said.split('\n').filter((l) => /error|cannot|unable|fail/i.test(l)).slice(-1)[0]?.trim();
    stopping = true;
    child.kill('SIGKILL');
    return `The screen could not be shared: x11vnc did not start on ${d.display}${log ? ` (${log.slice(0, 120)})` : ''}. The shell is shared.`;
  }
  const control = (how: string, cmd: string) => spawn(x11vnc, ['-display', d.display, ...(d.auth ? ['-auth', d.auth] : []), how, cmd, '-sync'],
    { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const remote = (cmd: string) => control('-remote', cmd);
  const query = (what: string) => control('-query', what);
  /** What a control command printed, once it has exited. */
  const run = (c: ChildProcess) => new Promise<string>((resolve) => {
    let out = '';
    c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    c.on('error', () => resolve(out));
    c.on('close', () => resolve(out));
  });
  return {
    port,
    password,
    display: d.display,
    pid: child.pid ?? -1,
    // x11vnc takes remote commands through an X property when its loop gets to them (-sync may
    // give up first on a busy machine): asked until it says the change is in place, for 10 s.
    viewOnly: async (on) => {
      const want = `viewonly:${on ? 1 : 0}`;
      for (const until = Date.now() + 10_000; Date.now() < until && child.exitCode === null;) {
        await run(remote(on ? 'viewonly' : 'noviewonly'));
        if ((await run(query('viewonly'))).includes(want)) return;
      }
    },
    onStopped: (cb) => void stopped.push(cb),
    stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      });
    },
  };
}

/**
 * The friend's way to end it all from the desktop itself: a small window that stays on top, says
 * who is helping, and has one button, "End remote help" (yad, else zenity; both Debian packages
 * a desktop usually has). Clicking it (or closing yad's window) calls `onEnd`. Returns the function
 * that takes the window away (at the end), or a string saying why there is none.
 */
export function endControl(d: Extract<DesktopFound, { kind: 'x11' }>, helperName: string, onEnd: () => void): (() => void) | string {
  const text = `${helperName} is helping you and can see this screen.\nYou can end it at any time.`;
  const yad = systemTool('yad');
  const zenity = systemTool('zenity');
  const [file, args] = yad
    ? [yad, [`--display=${d.display}`, '--title=remote-help', `--text=${text}`, '--button=End remote help:0', '--on-top', '--sticky',
      '--no-escape', '--fixed', '--skip-taskbar', '--geometry=+16+16', '--borders=12']]
    : zenity ? [zenity, [`--display=${d.display}`, '--info', '--title=remote-help', `--text=${text}`, '--ok-label=End remote help', '--no-wrap']]
      : [null, []];
  if (!file) return 'There is no "End" window on the desktop (neither yad nor zenity is installed): end it with Ctrl-Alt-C in the terminal.';
  const child = spawn(...diesWithUs(file, args as string[]), { env: { ...process.env, DISPLAY: d.display, ...(d.auth ? { XAUTHORITY: d.auth } : {}) }, stdio: 'ignore' });
  let closing = false;
  child.on('error', () => {});
  // The button (0) or the window closed (yad's 252) end it; a window that could not open does not.
  child.on('exit', (code) => closing || (code !== 0 && code !== 252) || onEnd());
  return () => {
    closing = true;
    child.kill();
  };
}
