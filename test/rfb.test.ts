// The VNC pieces against real programs: Xvfb with a yad window on it, x11vnc serving it on a
// loopback port with a password file from vncPasswdFile, and test/rfb.ts as the viewer. The
// viewer's picture is Xvfb's own framebuffer pixel for pixel; a wrong password is refused; input
// reaches the display, except with -viewonly.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshVncPassword, vncPasswdFile } from '../src/net/vncauth';
import { tempDir, until } from './harness';
import { RfbRefused, rfbConnect, type RfbClient, type RfbOptions } from './rfb';
import { settledScreen, showWindow, startX11vnc, startXvfb, uniform, type X11vnc } from './xdisplay';

/** How many pixels two RGB images of the same size differ in, and the box around them. */
function differences(a: Buffer, b: Buffer, width: number) {
  let count = 0;
  const box = { left: Infinity, top: Infinity, right: -1, bottom: -1 };
  for (let i = 0; i < a.length / 3; i++) {
    if (a[3 * i] === b[3 * i] && a[3 * i + 1] === b[3 * i + 1] && a[3 * i + 2] === b[3 * i + 2]) continue;
    count++;
    const [x, y] = [i % width, Math.floor(i / width)];
    box.left = Math.min(box.left, x);
    box.top = Math.min(box.top, y);
    box.right = Math.max(box.right, x);
    box.bottom = Math.max(box.bottom, y);
  }
  return { count, box };
}

/** A password, its file as x11vnc -rfbauth reads it, and a folder removed after the file's tests. */
function passwordFile() {
  const password = freshVncPassword();
  const file = path.join(tempDir(), 'passwd');
  fs.writeFileSync(file, vncPasswdFile(password));
  return { password, file };
}

/** Xvfb with a yad window, settled, and x11vnc serving it with a fresh password. */
async function servedDisplay(t: TestContext, o: { yad: string[]; width?: number; height?: number; viewOnly?: boolean; cursor?: boolean }) {
  const started = Date.now();
  const x = await startXvfb(t, { width: o.width, height: o.height });
  const xvfbMs = Date.now() - started;
  const window = await showWindow(t, x, o.yad);
  const screen = await settledScreen(x);
  const windowMs = Date.now() - started - xvfbMs;
  const { password, file } = passwordFile();
  const vnc = await startX11vnc(t, x, { passwordFile: file, viewOnly: o.viewOnly, cursor: o.cursor });
  t.diagnostic(`Xvfb ${x.display} ready in ${xvfbMs} ms, yad window settled in ${windowMs} ms, x11vnc listening after ${Date.now() - started - xvfbMs - windowMs} ms`);
  return { x, screen, password, vnc, window };
}

/** Logs in to the x11vnc on 127.0.0.1; the connection is closed when the test ends. */
async function viewer(t: TestContext, vnc: X11vnc, o: RfbOptions): Promise<RfbClient> {
  const started = Date.now();
  const client = await rfbConnect(net.connect(vnc.port, '127.0.0.1'), o);
  t.diagnostic(`RFB login took ${Date.now() - started} ms`);
  t.after(() => client.close());
  return client;
}

/** Polls an asynchronous check until it holds or the time is up. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function xdpyinfoSucceeds(display: string, authFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('xdpyinfo', ['-display', display], { env: { ...process.env, XAUTHORITY: authFile }, timeout: 5000 }, (err) => resolve(!err));
  });
}

test('x11vnc shows the viewer Xvfb\'s screen pixel for pixel, after RFB 3.8 with VNC authentication', { timeout: 60_000 }, async (t) => {
  const { x, screen, password, vnc } = await servedDisplay(t, { yad: ['--text=remote-help sees this screen'] });
  assert.equal(await xdpyinfoSucceeds(x.display, path.join(tempDir(), 'no-cookie')), false, 'the display takes clients without its cookie');

  const client = await viewer(t, vnc, { password });
  t.diagnostic(`server: ${client.version}, security types offered [${client.securityTypes}], used ${client.securityUsed}, ${client.width}x${client.height}, name ${JSON.stringify(client.name)}`);
  assert.equal(client.version, 'RFB 003.008');
  assert.deepEqual(client.securityTypes, [2]);
  assert.equal(client.securityUsed, 2);
  assert.deepEqual([client.width, client.height], [x.width, x.height]);
  assert.equal(client.name, `${os.hostname()}${x.display}`);

  const started = Date.now();
  const frame = await client.framebuffer();
  t.diagnostic(`a full ${client.width}x${client.height} Raw update took ${Date.now() - started} ms`);
  assert.equal(frame.length, x.width * x.height * 3);
  const diff = differences(frame, screen, x.width);
  assert.equal(diff.count, 0, `the viewer's picture differs from Xvfb's in ${diff.count} pixels within ${JSON.stringify(diff.box)}`);
  assert.ok(frame.equals(x.screenshot()), 'the screen changed while it was read');

  // Shared: a second viewer gets in beside the first, and both go on getting the screen.
  const second = await viewer(t, vnc, { password, shared: true });
  assert.ok((await second.framebuffer()).equals(screen));
  assert.ok((await client.framebuffer()).equals(screen));
});

test('a wrong password is refused, and so is a viewer that offers no password', { timeout: 60_000 }, async (t) => {
  const { vnc, password, screen } = await servedDisplay(t, { yad: ['--text=locked'], width: 320, height: 240 });
  const wrong = password.slice(0, 7) + (password[7] === 'x' ? 'y' : 'x');
  await assert.rejects(viewer(t, vnc, { password: wrong }), (e: unknown) => {
    assert.ok(e instanceof RfbRefused);
    assert.equal(e.reason, 'password check failed!');
    return true;
  });
  // x11vnc with -rfbauth offers only VNC authentication: a viewer wanting None gets nowhere.
  await assert.rejects(viewer(t, vnc, {}), /offers security types \[2\], not 1/);
  // The refusals leave the server as it was: the right password still gets the screen.
  const client = await viewer(t, vnc, { password });
  assert.ok((await client.framebuffer()).equals(screen));
});

test('without -nocursor x11vnc paints its pointer into the pixels it sends, which Xvfb\'s screen does not have', { timeout: 60_000 }, async (t) => {
  const { x, screen, password, vnc } = await servedDisplay(t, { yad: ['--text=pointer'], cursor: true });
  const client = await viewer(t, vnc, { password });
  const [px, py] = [400, 300]; // on the black root window, away from the yad window
  client.pointer(px, py, 0);
  let diff = differences(screen, screen, x.width);
  await eventually('the painted pointer at the new position', async () => {
    diff = differences(await client.framebuffer(), screen, x.width);
    return diff.box.left === px && diff.box.top === py;
  });
  t.diagnostic(`the viewer's picture differs from Xvfb's in ${diff.count} pixels within ${JSON.stringify(diff.box)}`);
  assert.ok(diff.box.right - px < 32 && diff.box.bottom - py < 32, `more than a pointer differs: ${JSON.stringify(diff.box)}`);
  assert.ok(x.screenshot().equals(screen), 'Xvfb\'s own screen changed when the pointer moved');
});

// yad --entry without a window manager: its window sits at the top left of the 320x240 screen,
// with the entry at about (60, 40) and Cancel at about (45, 78). The X server's keyboard focus
// follows the pointer (PointerRoot), so keys go to the window under it.
const ENTRY = [60, 40] as const;
const CANCEL = [45, 78] as const;

function click(client: RfbClient, [x, y]: readonly [number, number]) {
  client.pointer(x, y, 0);
  client.pointer(x, y, 1);
  client.pointer(x, y, 0);
}

/** Clicks into the entry and types BackSpace (the entry is empty: GTK rings the bell), "hi" and
 * Return (X keysyms). */
function typeHi(client: RfbClient) {
  click(client, ENTRY);
  for (const keysym of [0xff08, 0x68, 0x69, 0xff0d]) {
    client.key(keysym, true);
    client.key(keysym, false);
  }
}

async function entryDisplay(t: TestContext, viewOnly: boolean) {
  const { x, screen, password, vnc, window } = await servedDisplay(t, { yad: ['--entry', '--text=Type here'], width: 320, height: 240, viewOnly });
  const client = await viewer(t, vnc, { password });
  assert.ok((await client.framebuffer()).equals(screen));
  return { x, screen, client, window };
}

test('keys typed in the viewer reach the program on the display, and its bell and the result come back', { timeout: 60_000 }, async (t) => {
  const { x, screen, client, window } = await entryDisplay(t, false);
  typeHi(client);
  const sent = Date.now();
  // yad --entry prints what was typed and exits 0 on Return.
  await until('yad to take "hi" and Return', () => window.exitCode() !== null, 5000);
  t.diagnostic(`yad answered ${JSON.stringify(window.output())} ${Date.now() - sent} ms after the events were sent`);
  assert.equal(window.exitCode(), 0);
  assert.equal(window.output(), 'hi\n');
  // The bell that BackSpace rang on the display reaches the viewer as an RFB Bell.
  await until('the bell', () => client.bells > 0, 5000);
  // The window is gone, and the viewer's picture follows: all black. Xvfb's own screen has the
  // X server's pointer now, the X-shaped root cursor where the pointer is; x11vnc (-nocursor)
  // sends none.
  await eventually('the viewer\'s picture without the window', async () => uniform(await client.framebuffer()));
  t.diagnostic(`the viewer's picture was all black ${Date.now() - sent} ms after the events were sent`);
  const cursor = differences(x.screenshot(), Buffer.alloc(screen.length), x.width).box;
  t.diagnostic(`Xvfb's screen is black but for ${JSON.stringify(cursor)}`);
  assert.ok(cursor.left <= ENTRY[0] && ENTRY[0] <= cursor.right && cursor.top <= ENTRY[1] && ENTRY[1] <= cursor.bottom
    && cursor.right - cursor.left < 32 && cursor.bottom - cursor.top < 32, `more than a pointer is left on Xvfb's screen: ${JSON.stringify(cursor)}`);
});

test('a click in the viewer presses the button under the pointer', { timeout: 60_000 }, async (t) => {
  const { client, window } = await entryDisplay(t, false);
  click(client, CANCEL);
  await until('yad to be cancelled', () => window.exitCode() !== null, 5000);
  assert.equal(window.exitCode(), 1);
  assert.equal(window.output(), '');
});

test('with -viewonly the same clicks and keys change nothing', { timeout: 60_000 }, async (t) => {
  const { x, screen, client, window } = await entryDisplay(t, true);
  typeHi(client);
  click(client, CANCEL);
  // x11vnc reads a client's messages in order: once it answers this request it has had the events.
  await client.framebuffer();
  // Without -viewonly yad answers within a few hundred milliseconds (the tests above): wait a second.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(window.exitCode(), null, 'yad has exited');
  assert.equal(window.output(), '');
  assert.equal(client.bells, 0);
  assert.ok(x.screenshot().equals(screen), 'Xvfb\'s screen changed');
});
