// The friend's desktop shared over the verified link (src/session/desktop.ts, src/app/viewer.ts):
// real processes on a virtual display (Xvfb), the friend's program starting x11vnc, the helper's
// program forwarding a loopback port of its own through SSH, and a small RFB client of the test's
// (test/rfb.ts) reading the desktop through that port.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ClientChannel } from 'ssh2';
import { BIN, confirmCode, listeningPort, NODE, release, ROOT, startSide, tempDir, until, type Side } from './harness';
import { collect, outcome, verifiedLogin } from './attacker';
import { CONTROL_SUBSYSTEM } from '../src/net/control';
import { rfbConnect, RfbRefused, SECURITY_VNC, type RfbClient } from './rfb';
import { settledScreen, showWindow, startX11vnc, startXvfb, type XDisplay } from './xdisplay';
import { processAlive } from '../src/system';
import { vncPasswdFile } from '../src/net/vncauth';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skip = (!['Xvfb', 'x11vnc', 'yad', 'xdotool'].every(have) && 'Xvfb, x11vnc, yad and xdotool are installed by .ci/run') ||
  (process.getuid?.() !== 0 && 'needs root (a mount namespace hides the desktop)') || false;
const HOTKEY = '\x1b\x03';
/** Runs the friend where there is no X server or no x11vnc (test/fixtures/private-mounts.sh). */
const HIDDEN = path.join(ROOT, 'test', 'fixtures', 'private-mounts.sh');
const CTRL_ALT_K = '\x1b\x0b';
const flat = (s: Side) => s.output().replace(/\s+/g, ' ');

function side(t: TestContext, name: string, args: string[], env: Record<string, string> = {}): Side {
  const s = startSide(name, args, { env: { DISPLAY: '', XAUTHORITY: '', ...env } });
  t.after(() => release(s));
  return s;
}

/** A helper and a friend sharing the shell and the friend's desktop on `x`. */
async function sharedDesktop(t: TestContext, x: XDisplay, friendArgs: string[] = []) {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${port}`, '--desktop', ...friendArgs], { DISPLAY: x.display, XAUTHORITY: x.authFile });
  await confirmCode(friend, helper);
  const shared = await friend.waitEvent('desktop', 20_000);
  assert.equal(shared.shared, true, JSON.stringify(shared));
  const viewer = await until('the helper\'s desktop port', () => helper.events().find((e) => e.event === 'desktop' && e.shared), 10_000);
  const password = await until('the password on the helper\'s status line', () => /\(password (\S{8})\)/.exec(flat(helper))?.[1], 10_000)
    .catch((e: Error) => assert.fail(`${e.message}: the helper's screen shows\n${helper.screen()}`));
  return { helper, friend, vnc: { port: Number(shared.port), pid: Number(shared.pid) }, local: Number(viewer.port), password };
}

async function rfb(t: TestContext, port: number, password?: string): Promise<RfbClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  return rfbConnect(socket, { password, cursorShape: true });
}

test('the desktop through the helper\'s port: a real RFB login, the display\'s size and name, and pixels that match a screenshot; nobody else on the friend\'s machine gets in', { skip, timeout: 120_000 }, async (t) => {
  const x = await startXvfb(t);
  await showWindow(t, x, ['--text=The friend\'s desktop']);
  const s = await sharedDesktop(t, x);
  const c = await rfb(t, s.local, s.password);
  assert.match(c.version, /^RFB 003\.00[38]/);
  assert.equal(c.securityUsed, SECURITY_VNC);
  assert.deepEqual([c.width, c.height], [x.width, x.height]);
  assert.ok(c.name.length > 0, 'the desktop has a name');
  // x11vnc reads the display by polling it: on a busy machine its copy may lag a moment behind.
  let same = false;
  for (const deadline = Date.now() + 20_000; !same && Date.now() < deadline;) same = (await c.framebuffer()).equals(await settledScreen(x));
  assert.ok(same, 'a framebuffer update is the screen, pixel for pixel');
  assert.match(flat(s.friend), /Your screen is shared with/);

  // On the friend's machine, x11vnc's own port: no way in without this session's password.
  await assert.rejects(rfb(t, s.vnc.port), RfbRefused, 'no login without a password');
  await assert.rejects(rfb(t, s.vnc.port, 'guess123'), RfbRefused, 'a wrong password is refused');

  s.friend.write(HOTKEY);
  assert.equal((await s.friend.exited).code, 5);
  await until('x11vnc stopped', () => !processAlive(s.vnc.pid), 10_000);
  assert.match(flat(s.friend), /Your screen is no longer shared\./);
  // The transcript marks the desktop's start and end.
  const record = fs.readFileSync(String(s.friend.events().find((e) => e.event === 'transcript')!.path), 'utf8');
  assert.match(record, new RegExp(`"m","desktop shared: ${x.display}"`));
  assert.match(record, /"m","desktop sharing ended"/);
});

test('view only: while the friend has the keyboard, the helper\'s pointer and keys change nothing on the desktop; given back, the pointer moves', { skip, timeout: 120_000 }, async (t) => {
  const x = await startXvfb(t);
  await showWindow(t, x, ['--entry', '--text=Type here']);
  const s = await sharedDesktop(t, x);
  const c = await rfb(t, s.local, s.password);
  const pointer = () => execFileSync('xdotool', ['getmouselocation', '--shell'], { env: x.env, encoding: 'utf8' }).split('\n').slice(0, 2).join(' ');
  s.friend.write(CTRL_ALT_K); // the friend takes the keyboard: the desktop is view only
  // x11vnc takes the change through an X property: the event comes once it has.
  await until('the desktop view only', () => s.friend.events().some((e) => e.event === 'desktop' && e.viewOnly === true), 10_000);
  const [where, before] = [pointer(), await settledScreen(x)];
  c.pointer(17, 23, 0);
  c.pointer(17, 23, 1);
  c.pointer(17, 23, 0);
  for (const keysym of [0x61, 0x62, 0xff0d]) {
    c.key(keysym, true);
    c.key(keysym, false);
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(pointer(), where, 'the pointer did not move');
  assert.ok((await settledScreen(x)).equals(before), 'nothing changed on the screen');
  s.friend.write(CTRL_ALT_K); // given back
  await until('the desktop given back', () => s.friend.events().some((e) => e.event === 'desktop' && e.viewOnly === false), 10_000);
  await until('the helper\'s pointer moves the desktop\'s', () => {
    c.pointer(31, 29, 0);
    return pointer() === 'X=31 Y=29';
  }, 10_000);
  s.friend.write(HOTKEY);
  await s.friend.exited;
});

test('every ending stops the x11vnc remote-help started and leaves one it did not start; the desktop\'s "End remote help" window ends it all', { skip, timeout: 240_000 }, async (t) => {
  const x = await startXvfb(t);
  const dir = tempDir('remote-help-desktop-');
  fs.writeFileSync(path.join(dir, 'passwd'), vncPasswdFile('theirs12'));
  const theirs = await startX11vnc(t, x, { passwordFile: path.join(dir, 'passwd') });
  const endings: [string, (s: Awaited<ReturnType<typeof sharedDesktop>>) => Promise<void>][] = [
    ['the hotkey', async (s) => s.friend.write(HOTKEY)],
    ['the helper\'s ~.', async (s) => s.helper.write('\r~.')],
    ['the helper lost past the window', async (s) => s.helper.kill('SIGKILL')],
    ['the friend\'s program killed (SIGKILL)', async (s) => s.friend.kill('SIGKILL')],
    ['"End remote help" on the desktop', async () => {
      const win = await until('the End window', () => spawnSync('xdotool', ['search', '--name', '^remote-help$'], { env: x.env, encoding: 'utf8' }).stdout.trim().split('\n')[0], 10_000);
      const geo = execFileSync('xdotool', ['getwindowgeometry', '--shell', win], { env: x.env, encoding: 'utf8' });
      const v = (k: string) => Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(geo)![1]);
      // The pointer over the window (the X server's focus follows it), then Enter: its one button.
      execFileSync('xdotool', ['mousemove', String(v('X') + v('WIDTH') / 2), String(v('Y') + v('HEIGHT') / 2), 'sleep', '0.3', 'key', 'Return'], { env: x.env });
    }],
  ];
  for (const [what, end] of endings) {
    await t.test(what, async (st) => {
      const s = await sharedDesktop(st, x, ['--reconnect', '0']);
      await end(s);
      await s.friend.exited;
      await until('x11vnc stopped', () => !processAlive(s.vnc.pid), 10_000);
      assert.ok(processAlive(theirs.pid), 'the x11vnc remote-help did not start still runs');
      if (what.includes('End remote help')) assert.match(flat(s.friend), /You ended the session/);
    });
  }
});

test('while the desktop is shared, the friend\'s SSH server forwards to x11vnc\'s port and to nothing else', { skip, timeout: 120_000 }, async (t) => {
  const x = await startXvfb(t);
  const friend = side(t, 'friend', ['friend', '--reverse', '--port', '0', '--desktop'], { DISPLAY: x.display, XAUTHORITY: x.authFile });
  const { client } = await verifiedLogin(t, friend, await listeningPort(friend));
  const control = await outcome<ClientChannel>('the control channel', (cb) => client.subsys(CONTROL_SUBSYSTEM, cb));
  const said = collect(control.value!);
  await outcome('the shell', (cb) => client.shell({ term: 'xterm', cols: 80, rows: 24 }, cb));
  const desktop = await until('the desktop on the control channel', () => /"t":"desktop","port":(\d+)/.exec(said())?.[1], 20_000);
  const port = Number(desktop);
  const forward = (host: string, p: number) => outcome<ClientChannel>(`a forward to ${host}:${p}`, (cb) => client.forwardOut('127.0.0.1', 0, host, p, cb));
  for (const [host, p] of [['127.0.0.1', port + 1], ['localhost', port], ['::1', port], ['127.0.0.1', 22], ['10.0.0.1', port]] as const) {
    const r = await forward(host, p);
    assert.ok(r.err, `${host}:${p} is refused`);
  }
  const ok = await forward('127.0.0.1', port);
  assert.equal(ok.err, null, 'x11vnc\'s port is forwarded');
  const greeting = collect(ok.value!);
  await until('x11vnc\'s greeting through the forward', () => greeting().startsWith('RFB 003.008'), 10_000);
  const refused = friend.events().filter((e) => e.event === 'request-refused' && e.request === 'direct-tcpip');
  assert.equal(refused.length, 5, JSON.stringify(refused));
  friend.write(HOTKEY);
  await friend.exited;
});

test('no graphical desktop, a Wayland one, no x11vnc, or a policy against it: the friend reads why, and the shell is shared', { skip, timeout: 120_000 }, async (t) => {
  const policy = path.join(tempDir('remote-help-policy-'), 'policy.conf');
  fs.writeFileSync(policy, 'desktop = false\n');
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['no desktop', ['--desktop'], { DISPLAY: '', REMOTE_HELP_TEST_HIDE: 'x11' }, /No graphical desktop is running on this computer: remote-help shares the shell\./],
    ['Wayland', [], { WAYLAND_DISPLAY: 'wayland-0' }, /This is a Wayland desktop: remote-help can share the shell here, not the screen/],
    ['no x11vnc', [], { DISPLAY: ':0', REMOTE_HELP_TEST_HIDE: 'x11vnc' }, /Your screen cannot be shared: x11vnc is not installed \(apt-get install x11vnc\)\./],
    ['the policy', ['--desktop'], { DISPLAY: ':0', REMOTE_HELP_POLICY: policy }, /Sharing the screen is turned off by this computer's administrator\./],
  ];
  for (const [what, args, env, says] of cases) {
    await t.test(what, async (st) => {
      const helper = side(st, 'helper', ['helper', '--port', '0']);
      const port = await listeningPort(helper);
      const friend = startSide('friend', ['friend', `127.0.0.1:${port}`, ...args], { executable: HIDDEN, env: { XAUTHORITY: '', ...env, REMOTE_HELP_NODE_BIN: `${NODE} ${BIN}` } });
      st.after(() => release(friend));
      await friend.waitFor(says, 15_000);
      await confirmCode(friend, helper);
      helper.write('echo shell-$((6*7))\r');
      await friend.waitFor('shell-42');
      assert.ok(!friend.events().some((e) => e.event === 'desktop' && e.shared), 'nothing shared');
      friend.write(HOTKEY);
      await friend.exited;
    });
  }
});

/** Where `small` (an RGB image) best appears in `big`, its top left corner within `reach` pixels
 * of big's: the offset, and the share of small's pixels that match there, each colour within
 * `tolerance` (a viewer may get the screen JPEG-compressed). */
function findImage(big: Buffer, bw: number, small: Buffer, sw: number, reach = 64, tolerance = 32): { x: number; y: number; share: number } {
  const sh = small.length / 3 / sw;
  const bh = big.length / 3 / bw;
  const near = (b: number, s: number) => Math.abs(big[b] - small[s]) <= tolerance && Math.abs(big[b + 1] - small[s + 1]) <= tolerance && Math.abs(big[b + 2] - small[s + 2]) <= tolerance;
  const score = (x: number, y: number, every: number) => {
    let same = 0;
    let all = 0;
    for (let r = 0; r < sh && y + r < bh; r += every)
      for (let c = 0; c < sw && x + c < bw; c += every, all++) if (near(((y + r) * bw + x + c) * 3, (r * sw + c) * 3)) same++;
    return all ? same / all : 0;
  };
  let best = { x: 0, y: 0, share: -1 };
  for (let y = 0; y <= reach; y++) for (let x = 0; x <= reach; x++) {
    const share = score(x, y, 7);
    if (share > best.share) best = { x, y, share };
  }
  return { ...best, share: score(best.x, best.y, 1) };
}

test('on a helper\'s desktop, the helper\'s program opens the friend\'s screen in vncviewer', { skip: skip || (!have('vncviewer') && 'vncviewer (tigervnc-viewer) is installed by .ci/run'), timeout: 120_000 }, async (t) => {
  const x = await startXvfb(t);
  await showWindow(t, x, ['--text=The friend\'s desktop, seen by the helper']);
  const mine = await startXvfb(t, { width: 1024, height: 768 });
  const helper = side(t, 'helper', ['helper', '--port', '0'], { DISPLAY: mine.display, XAUTHORITY: mine.authFile });
  const port = await listeningPort(helper);
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${port}`, '--desktop'], { DISPLAY: x.display, XAUTHORITY: x.authFile });
  await confirmCode(friend, helper);
  const shown = await until('the helper\'s viewer', () => helper.events().find((e) => e.event === 'desktop' && e.shared), 20_000);
  assert.equal(shown.viewer, 'vncviewer');
  await helper.waitFor('it opens in vncviewer');
  // The friend's whole screen (with the "End remote help" window) inside the viewer's window.
  // The friend's screen is read again each time: on a busy machine the "End remote help" window
  // may open after the viewer did.
  let theirs = await settledScreen(x);
  const found = await until('the friend\'s screen in the helper\'s viewer', () => {
    theirs = x.screenshot();
    const f = findImage(mine.screenshot(), mine.width, theirs, x.width);
    return f.share >= 0.98 ? f : null;
  }, 45_000).catch((e: Error) => {
    const keep = process.env.REMOTE_HELP_KEEP_SCREENSHOTS;
    if (keep) for (const [name, d] of [['helper', mine], ['friend', x]] as const)
      fs.writeFileSync(path.join(keep, `${name}.ppm`), Buffer.concat([Buffer.from(`P6 ${d.width} ${d.height} 255\n`), d.screenshot()]));
    throw new Error(`${e.message} (${JSON.stringify(findImage(mine.screenshot(), mine.width, theirs, x.width))})`);
  });
  assert.ok(found.share >= 0.98, JSON.stringify(found));
  t.diagnostic(`the friend's screen at +${found.x}+${found.y} of the helper's, ${(found.share * 100).toFixed(2)}% of its pixels alike`);
  if (process.env.REMOTE_HELP_KEEP_SCREENSHOTS) fs.writeFileSync(path.join(process.env.REMOTE_HELP_KEEP_SCREENSHOTS, 'helper-viewer.ppm'),
    Buffer.concat([Buffer.from(`P6 ${mine.width} ${mine.height} 255\n`), mine.screenshot()]));
  friend.write(HOTKEY);
  await friend.exited;
  await until('the viewer closed', () => spawnSync('pgrep', ['-f', `127.0.0.1::${String(shown.port)}`]).status !== 0, 10_000);
  await helper.exited;
  const folder = new RegExp(`^remote-help-viewer-${helper.pid}-`);
  assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => folder.test(n)), [], 'the helper\'s password file is gone');
});
