// The Debian package, as the friend's machine gets it: built by scripts/deb.ts, lintian-clean,
// installed with dpkg, upgraded, then the real recovery menu (friendly-recovery and whiptail from
// Debian) in tmux at 80x25 with TERM=linux: the entry is listed, choosing it starts the wizard, a
// session with a helper works and leaving returns to the menu; the same with the root file system
// read-only (a mount namespace) and with no network (a network namespace); then purged, nothing
// left. Needs root (dpkg), like .ci/run.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDeb } from '../scripts/deb';
import { listeningPort, release, startSide, tempDir, until, type Side } from './harness';
import { TmuxServer, type Pane } from './tmux';

const root = process.getuid?.() === 0;
const MENU = '/lib/recovery-mode/recovery-menu';
const OPTION = '/usr/lib/recovery-mode/options/remote-help';
const FILES = ['/usr/bin/remote-help', '/usr/lib/remote-help', OPTION, '/usr/share/man/man1/remote-help.1.gz', '/usr/share/doc/remote-help'];

const dpkg = (...args: string[]) => spawnSync('dpkg', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });

/** The recovery menu in a tmux pane of its own: 80x25, TERM=linux, started by `command`. */
async function menuPane(t: TestContext, dir: string, command: string): Promise<Pane> {
  const tmux = new TmuxServer();
  t.after(() => tmux.kill());
  const pane = await tmux.pane('menu', { cols: 80, rows: 25, env: { TERM: 'linux', LANG: 'C', LC_ALL: '' }, cwd: dir });
  await pane.line(`${command}; echo MENU-EXIT=$?`);
  await pane.waitFor('Recovery Menu', 10_000);
  return pane;
}

/** The menu is what the pane shows now (not only in its history). */
async function menuShown(pane: Pane) {
  const visible = () => pane.server.tmux('capture-pane', '-p', '-t', pane.name);
  let shown = '';
  await until('the recovery menu on the screen', () => /Recovery Menu/.test(shown) || void visible().then((s) => (shown = s)), 10_000)
    .catch((e: Error) => {
      throw new Error(`${e.message}; the screen shows:\n${shown}`);
    });
}

/** The entry is listed; `r` moves from "resume" to it and Enter chooses it. */
async function chooseEntry(pane: Pane) {
  await pane.waitFor(/remote-help\s+Get help from a friend over the network/);
  await pane.type('r');
  await pane.key('Enter');
}

/** The friend walks the wizard to the helper on `port`; the helper types the code, the friend y. */
async function session(pane: Pane, helper: Side, port: number) {
  await pane.waitFor('Step 1 of 7', 15_000);
  await pane.key('Enter');
  await pane.waitFor('Step 2 of 7');
  await pane.key('Enter'); // "1  I need help" is the first choice
  await pane.waitFor("YOUR HELPER'S ADDRESS");
  await pane.type(`127.0.0.1:${port}`);
  await pane.key('Enter');
  const code = (await pane.waitFor(/Read this code aloud:\s+([0-9A-Z](?: [0-9A-Z]){4})/, 15_000))[1];
  await helper.waitFor('Type the five symbols');
  helper.write(`${code.toLowerCase()}\r`);
  await helper.waitFor('Ask your friend to press y');
  await pane.type('y');
  const started = await helper.waitEvent('session-started');
  assert.ok(started);
  await until('the shell on the helper\'s screen', () => /[#$] *$/m.test(helper.screen()), 15_000);
  helper.write('echo from-the-menu-$((6*7))\r');
  await pane.waitFor(/^from-the-menu-42\s*$/m);
  await helper.waitFor(/^from-the-menu-42\s*$/m);
}

/** Ctrl-Alt-C, the last screen, Enter: back in the menu. */
async function endAndReturn(pane: Pane, helper: Side) {
  await pane.bytes('1b', '03');
  await helper.exited;
  await pane.waitFor('Press Enter to go back to the recovery menu.', 10_000);
  const last = await pane.screen();
  await pane.key('Enter');
  await menuShown(pane);
  return last;
}

function helperFor(t: TestContext): Side {
  const helper = startSide('helper', ['helper', '--port', '0']);
  t.after(() => release(helper));
  return helper;
}

test('the Debian package: lintian-clean, installs and upgrades; the recovery menu runs a session with and without a writable disk, says when there is no network; purged, nothing left', { skip: !root && 'needs root (dpkg -i), as in .ci/run', timeout: 300_000 }, async (t) => {
  for (const tool of ['lintian', 'whiptail', 'tmux']) assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is installed (bash .ci/run installs it)`);
  assert.ok(fs.existsSync(MENU), 'friendly-recovery is installed (bash .ci/run installs it)');
  const dir = tempDir('remote-help-deb-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const v1 = await buildDeb({ outDir: path.join(dir, 'v1'), version: '0.1.0~test1' });
  const v2 = await buildDeb({ outDir: path.join(dir, 'v2'), version: '0.1.0~test2' });
  t.diagnostic(`the .deb: ${v2.bytes} bytes`);
  const lint = spawnSync('lintian', ['--fail-on', 'error', v2.file], { encoding: 'utf8' });
  assert.equal(lint.status, 0, `lintian: ${lint.stdout}${lint.stderr}`);
  assert.doesNotMatch(lint.stdout, /^E: /m);

  t.after(() => dpkg('--purge', 'remote-help'));
  for (const deb of [v1, v2]) {
    const r = dpkg('-i', deb.file);
    assert.equal(r.status, 0, `dpkg -i ${path.basename(deb.file)}: ${r.stdout}${r.stderr}`);
  }
  assert.match(dpkg('-s', 'remote-help').stdout, /Version: 0\.1\.0~test2/);
  assert.match(execFileSync('/usr/bin/remote-help', ['--help'], { encoding: 'utf8' }), /Usage: remote-help/);
  assert.match(execFileSync('man', ['-P', 'cat', 'remote-help'], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } }), /Ctrl-Alt-C or F12/);
  assert.equal(execFileSync(OPTION, ['test'], { encoding: 'utf8' }).trim(), 'Get help from a friend over the network');
  assert.equal(spawnSync(OPTION, ['test', 'mode']).status, 2, 'works read-only or read-write');

  await t.test('the menu lists the entry; a session with a helper; leaving returns to the menu', async (st) => {
    const helper = helperFor(st);
    const port = await listeningPort(helper);
    const pane = await menuPane(st, dir, `bash ${MENU}`);
    await chooseEntry(pane);
    await session(pane, helper, port);
    const last = await endAndReturn(pane, helper);
    assert.doesNotMatch(last, /kept in memory/);
  });

  await t.test('with the root file system read-only: told, the record goes to /run, the session works', async (st) => {
    const before = new Set(fs.existsSync('/run/remote-help') ? fs.readdirSync('/run/remote-help') : []);
    st.after(() => {
      for (const f of fs.existsSync('/run/remote-help') ? fs.readdirSync('/run/remote-help') : [])
        if (!before.has(f)) fs.rmSync(path.join('/run/remote-help', f), { recursive: true, force: true });
    });
    // As in recovery: / read-only, /run a tmpfs of its own (here it may be part of /: then one is
    // mounted in the namespace, and goes with it).
    const readOnlyBoot = 'mount -o remount,bind,ro / && { mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run; }';
    const helper = helperFor(st);
    const port = await listeningPort(helper);
    const pane = await menuPane(st, dir, `env -u REMOTE_HELP_STATE_DIR unshare --mount --propagation private sh -c '${readOnlyBoot} && exec bash ${MENU}'`);
    await chooseEntry(pane);
    await pane.waitFor('The disk is read-only right now, so the record of this session is kept in memory');
    await session(pane, helper, port);
    const last = await endAndReturn(pane, helper);
    assert.match(last.replace(/\s+/g, ' '), /record of the session is in \/run\/remote-help\/\S+ .*kept in memory only and will be gone after a reboot/);
  });

  await t.test('with no network: the plain message and the offer to start it, then the wizard', async (st) => {
    const ns = `rh-deb-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    st.after(() => spawnSync('ip', ['netns', 'delete', ns]));
    const pane = await menuPane(st, dir, `ip netns exec ${ns} bash ${MENU}`);
    await chooseEntry(pane);
    await pane.waitFor('This computer is not connected to a network yet, so your helper cannot reach it.');
    await pane.waitFor('Press N and then Enter to start the network now');
    await pane.key('Enter'); // go on without it
    await pane.waitFor('Step 1 of 7', 15_000);
    await pane.type('q');
    await pane.waitFor('Press Enter to go back to the recovery menu.');
    await pane.key('Enter');
    await menuShown(pane);
  });

  const purged = dpkg('--purge', 'remote-help');
  assert.equal(purged.status, 0, purged.stdout + purged.stderr);
  for (const f of FILES) assert.equal(fs.existsSync(f), false, `${f} is gone`);
  assert.equal(dpkg('-s', 'remote-help').status, 1, 'not installed');
});
