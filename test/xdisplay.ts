// Test helpers for a virtual X display: Xvfb on a free display number with its own
// MIT-MAGIC-COOKIE, screenshots read straight from Xvfb's framebuffer file (XWD format), a yad
// window to put something recognisable on the screen, and x11vnc serving the display on a
// loopback port. Whatever is started here is stopped when its test ends (t.after), or at the
// latest when this process exits; every wait is bounded.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir, until } from './harness';
import { reservePort } from './ports';

export interface XDisplay {
  /** The display's name, e.g. ":101". */
  display: string;
  /** The Xauthority file with the display's cookie (clients need XAUTHORITY set to it). */
  authFile: string;
  width: number;
  height: number;
  /** This process's environment with DISPLAY and XAUTHORITY for the display. */
  env: NodeJS.ProcessEnv;
  /** The screen now, as RGB: 3 bytes a pixel, row by row (width × height × 3 bytes). This is
   * Xvfb's framebuffer, so it has the X server's own pointer drawn in it, which X clients reading
   * the screen (x11vnc) do not get. Seen here: no pointer on a fresh display, GTK's I-beam over a
   * yad entry, the X-shaped root cursor once a window had shown a pointer. */
  screenshot(): Buffer;
  /** Stops Xvfb and removes its files (done by itself when the test ends). */
  stop(): Promise<void>;
}

/** A program started here, with a bounded way to end it. */
interface Started {
  child: ChildProcess;
  exited: Promise<void>;
  /** What it wrote on stdout and stderr (the last 64 KiB of each). */
  stdout(): string;
  stderr(): string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function start(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out = (out + d).slice(-65536);
  });
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-65536);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      err += `\n${file}: ${e.message}`;
      resolve();
    });
  }).then(() => {
    running.delete(child);
  });
  return { child, exited, stdout: () => out, stderr: () => err };
}

// What runs on each display (yad, x11vnc): stopped before the display itself, whatever order the
// test's after-hooks run in.
const onDisplay = new WeakMap<XDisplay, Set<() => Promise<void>>>();

function dependsOn(x: XDisplay, stop: () => Promise<void>) {
  onDisplay.get(x)?.add(stop);
}

const hasExited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** SIGTERM, and SIGKILL if it is still there after `ms`; resolves once it has exited. */
async function end(p: Started, ms = 3000): Promise<void> {
  if (!hasExited(p.child)) p.child.kill('SIGTERM');
  let timer!: NodeJS.Timeout;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const how = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (how === 'late') {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a short program to its end; resolves with whether it exited 0. Bounded by `ms`. */
function succeeds(file: string, args: string[], env: NodeJS.ProcessEnv, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: ms }, (err) => resolve(!err));
  });
}

const socketOf = (n: number) => `/tmp/.X11-unix/X${n}`;
const lockOf = (n: number) => `/tmp/.X${n}-lock`;
const displayTaken = (n: number) => fs.existsSync(socketOf(n)) || fs.existsSync(lockOf(n));

/** Removes the lock file and socket of display n when they are the given Xvfb's (one that was
 * killed cannot remove them itself). */
function removeLeftovers(n: number, pid: number) {
  try {
    if (Number(fs.readFileSync(lockOf(n), 'latin1').trim()) !== pid) return;
  } catch {
    return;
  }
  fs.rmSync(socketOf(n), { force: true });
  fs.rmSync(lockOf(n), { force: true });
}

/**
 * Starts Xvfb on the first free display number from :100 on (free: neither /tmp/.X11-unix/X<n>
 * nor /tmp/.X<n>-lock exists; one that another Xvfb takes first in between is skipped too), with
 * a fresh MIT-MAGIC-COOKIE in its own Xauthority file and its framebuffer in a file, and waits
 * until it accepts clients (xdpyinfo). With `t`, it is stopped when the test ends.
 */
export async function startXvfb(t?: TestContext, o: { width?: number; height?: number } = {}): Promise<XDisplay> {
  const width = o.width ?? 640;
  const height = o.height ?? 480;
  const dir = tempDir('remote-help-xvfb-');
  const authFile = path.join(dir, 'Xauthority');
  const cookie = randomBytes(16).toString('hex');
  for (let n = 100, tries = 0; n < 1000 && tries < 20; n++) {
    if (displayTaken(n)) continue;
    tries++;
    const display = `:${n}`;
    fs.rmSync(authFile, { force: true });
    execFileSync('xauth', ['-f', authFile, 'add', display, '.', cookie], { timeout: 5000, stdio: 'ignore' });
    const env = { ...process.env, DISPLAY: display, XAUTHORITY: authFile };
    const xvfb = start('Xvfb', [display, '-screen', '0', `${width}x${height}x24`, '-fbdir', dir, '-nolisten', 'tcp', '-auth', authFile]);
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!ready && !hasExited(xvfb.child) && Date.now() < deadline) {
      ready = await succeeds('xdpyinfo', ['-display', display], env);
      if (!ready) await delay(50);
    }
    if (!ready) {
      await end(xvfb);
      removeLeftovers(n, xvfb.child.pid ?? -1);
      // Another Xvfb took this number between our look and our start: try the next one.
      if (/already active/.test(xvfb.stderr())) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`Xvfb ${display} did not accept clients within 10 s: ${xvfb.stderr().trim().slice(-2000)}`);
    }
    const fbFile = path.join(dir, 'Xvfb_screen0');
    let stopped: Promise<void> | null = null;
    const x: XDisplay = {
      display, authFile, width, height, env,
      screenshot: () => parseXwd(fs.readFileSync(fbFile)).rgb,
      stop: () =>
        (stopped ??= (async () => {
          await Promise.all([...(onDisplay.get(x) ?? [])].map((stop) => stop()));
          await end(xvfb);
          removeLeftovers(n, xvfb.child.pid ?? -1);
          fs.rmSync(dir, { recursive: true, force: true });
        })()),
    };
    onDisplay.set(x, new Set());
    t?.after(() => x.stop());
    return x;
  }
  throw new Error('found no free X display number from :100 on');
}

export interface Xwd {
  width: number;
  height: number;
  /** 3 bytes a pixel, row by row. */
  rgb: Buffer;
}

/** How to read one colour channel from a pixel value: its mask's shift and width in bits. */
function channel(mask: number) {
  if (mask === 0) throw new Error('an XWD colour mask is zero');
  let shift = 0;
  while (!((mask >>> shift) & 1)) shift++;
  let bits = 0;
  while ((mask >>> (shift + bits)) & 1) bits++;
  const max = 2 ** bits - 1;
  return (pixel: number) => Math.round((((pixel & mask) >>> shift) * 255) / max);
}

/**
 * Converts an XWD file (the X Window Dump format, as Xvfb keeps its framebuffer with -fbdir) of a
 * true-colour ZPixmap to RGB. The header is big-endian 32-bit fields (XWDFileHeader in X11/XWDFile.h);
 * the window name follows up to header_size, then ncolors colour entries of 12 bytes each, then the
 * pixels, bytes_per_line a row, in the header's byte order. Bits outside the colour masks (the
 * fourth byte of a 32-bit pixel at depth 24) are ignored.
 */
export function parseXwd(file: Buffer): Xwd {
  if (file.length < 100) throw new Error(`an XWD file of ${file.length} bytes is too short for its header`);
  const field = (i: number) => file.readUInt32BE(4 * i);
  const [headerSize, version, format, , width, height, , byteOrder] = [0, 1, 2, 3, 4, 5, 6, 7].map(field);
  const [bitsPerPixel, bytesPerLine, visualClass, redMask, greenMask, blueMask] = [11, 12, 13, 14, 15, 16].map(field);
  const ncolors = field(19);
  if (version !== 7) throw new Error(`XWD file version ${version}, not 7`);
  if (format !== 2) throw new Error(`XWD pixmap format ${format}, not ZPixmap (2)`);
  if (visualClass !== 4 && visualClass !== 5) throw new Error(`XWD visual class ${visualClass} is not true or direct colour`);
  if (![16, 24, 32].includes(bitsPerPixel)) throw new Error(`XWD with ${bitsPerPixel} bits a pixel is not supported`);
  const start = headerSize + ncolors * 12;
  const bytes = bitsPerPixel / 8;
  if (file.length < start + bytesPerLine * height) throw new Error(`XWD file of ${file.length} bytes is shorter than its ${width}x${height} pixels`);
  const [red, green, blue] = [redMask, greenMask, blueMask].map(channel);
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * bytes;
      const pixel = byteOrder === 0 ? file.readUIntLE(at, bytes) : file.readUIntBE(at, bytes);
      const o = (y * width + x) * 3;
      rgb[o] = red(pixel);
      rgb[o + 1] = green(pixel);
      rgb[o + 2] = blue(pixel);
    }
  }
  return { width, height, rgb };
}

/** Whether every pixel of an RGB image has the same colour. */
export function uniform(rgb: Buffer): boolean {
  for (let i = 3; i < rgb.length; i += 3) if (rgb[i] !== rgb[0] || rgb[i + 1] !== rgb[1] || rgb[i + 2] !== rgb[2]) return false;
  return true;
}

/** Waits until the screen has not changed for `quietMs` and returns it then. */
export async function settledScreen(x: XDisplay, quietMs = 300, ms = 10_000): Promise<Buffer> {
  let last = x.screenshot();
  let since = Date.now();
  return until(`the screen of ${x.display} to settle`, () => {
    const now = x.screenshot();
    if (!now.equals(last)) {
      last = now;
      since = Date.now();
      return null;
    }
    return Date.now() - since >= quietMs ? now : null;
  }, ms);
}

export interface Window {
  /** What yad printed (a dialog prints its answer when it is closed with OK). */
  output(): string;
  /** yad's exit code once it has exited by itself (OK is 0, Cancel 1), else null. */
  exitCode(): number | null;
  stop(): Promise<void>;
}

/**
 * Shows a yad dialog on the display (e.g. ['--text=Hello'] or ['--entry']) and waits until the screen
 * is no longer one colour and has settled. yad runs with its HOME and XDG folders in a folder of
 * its own, removed when it stops, so it leaves nothing in this user's home.
 */
export async function showWindow(t: TestContext, x: XDisplay, yadArgs: string[]): Promise<Window> {
  const home = tempDir('remote-help-yad-');
  const env = {
    ...x.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_CACHE_HOME: path.join(home, 'cache'),
    XDG_DATA_HOME: path.join(home, 'data'), XDG_RUNTIME_DIR: home, NO_AT_BRIDGE: '1', GDK_BACKEND: 'x11',
  };
  const yad = start('yad', ['--title=remote-help test', ...yadArgs], env);
  let stopped: Promise<void> | null = null;
  const w: Window = {
    output: yad.stdout,
    exitCode: () => yad.child.exitCode,
    stop: () => (stopped ??= end(yad).then(() => fs.rmSync(home, { recursive: true, force: true }))),
  };
  t.after(() => w.stop());
  dependsOn(x, w.stop);
  await until(`a yad window on ${x.display}`, () => {
    if (hasExited(yad.child)) throw new Error(`yad exited: ${yad.stderr().trim()}`);
    return !uniform(x.screenshot());
  });
  await settledScreen(x);
  return w;
}

export interface X11vnc {
  port: number;
  pid: number;
  /** x11vnc's log so far (its -o file). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts x11vnc on the display, listening on 127.0.0.1 only, on a port reserved for the test, with
 * the password in `passwordFile` (as vncPasswdFile writes it). It draws no cursor into the
 * framebuffer (-nocursor) unless `cursor` is set: for a client that takes no cursor-shape updates,
 * like test/rfb.ts, x11vnc paints its own pointer into the pixels it sends, which Xvfb's screen
 * does not have. Resolves once x11vnc says PORT=; stopped when the test ends.
 */
export async function startX11vnc(t: TestContext, x: XDisplay, o: { passwordFile: string; viewOnly?: boolean; cursor?: boolean }): Promise<X11vnc> {
  const port = await reservePort(t);
  const logDir = tempDir('remote-help-x11vnc-');
  const logFile = path.join(logDir, 'x11vnc.log');
  const args = [
    '-display', x.display, '-auth', x.authFile, '-localhost', '-noipv6', '-rfbport', String(port),
    '-rfbauth', o.passwordFile, '-forever', '-shared', '-o', logFile,
    ...(o.cursor ? [] : ['-nocursor']), ...(o.viewOnly ? ['-viewonly'] : []),
  ];
  const vnc = start('x11vnc', args);
  const log = () => {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let stopped: Promise<void> | null = null;
  const server: X11vnc = {
    port, pid: vnc.child.pid ?? -1, log,
    stop: () => (stopped ??= end(vnc).then(() => fs.rmSync(logDir, { recursive: true, force: true }))),
  };
  t.after(() => server.stop());
  dependsOn(x, server.stop);
  await until(`x11vnc on ${x.display} to listen on port ${port}`, () => {
    if (hasExited(vnc.child)) throw new Error(`x11vnc exited: ${(vnc.stderr() + log()).trim().slice(-2000)}`);
    return vnc.stdout().includes(`PORT=${port}`);
  });
  return server;
}
