// The shared shell without any pty addon: util-linux's `script` holds the pty (pty-script.ts).
// Both programs run with every addon made unloadable; the session must work as with one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadPtyAddon } from '../src/session/pty';
import { BIN, NODE, connectedPairWith, sessionProcesses, until } from './harness';

const NO_ADDON = { NODE_OPTIONS: `--require=${path.join(__dirname, 'fixtures', 'no-pty-addon.cjs')}` };
const HOTKEY = '\x1b\x03';

test('the addon is chosen in order, and one that REMOTE_HELP_PTY names but cannot load is reported, not thrown', () => {
  assert.equal(loadPtyAddon({}).name, '@lydell/node-pty');
  const r = loadPtyAddon({ REMOTE_HELP_PTY: 'node-pty' });
  assert.equal(r.name, null);
  assert.match(('why' in r ? r.why : []).join(), /node-pty: Cannot find module/);
});

test('without any pty addon, --help and the helper\'s first screen work (nothing loads one before a shell starts)', () => {
  const r = spawnSync(NODE, [BIN, '--help'], { env: { ...process.env, ...NO_ADDON }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: remote-help/);
});

test('without any pty addon: a whole session through `script`, resizes followed, and Ctrl-Alt-C kills every process of it', { timeout: 60_000 }, async (t) => {
  const { friend, helper, shellPid } = await connectedPairWith({ t, friendEnv: NO_ADDON, helperEnv: NO_ADDON });
  const started = friend.events().find((e) => e.event === 'session-started');
  assert.equal(started?.pty, 'script', 'the fallback ran');
  let n = 0;
  const size = async (want: string) => {
    // Polled: a new size travels from the terminal to the program, over SSH, to the pty.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const tag = `sz${++n}`;
      helper.write(`echo ${tag}-$(stty size | tr ' ' x)-end\r`);
      await helper.waitFor(new RegExp(`${tag}-\\d+x\\d+-end`));
      const seen = new RegExp(`${tag}-(\\d+x\\d+)-end`).exec(helper.screen() + helper.output())?.[1];
      if (seen === want) return;
      if (Date.now() > deadline) assert.equal(seen, want, 'stty size in the shared shell');
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await size('24x80'); // 80x25 terminals, each less its status line
  helper.resize(70, 20);
  await size('19x70');
  friend.resize(60, 30);
  await size('19x60');
  helper.write('sleep 600 & nohup sleep 601 >/dev/null 2>&1 & echo jobs-$((5*5))\r');
  await friend.waitFor('jobs-25');
  assert.ok(sessionProcesses(shellPid).length >= 3, 'the shell and its two jobs');
  friend.write(HOTKEY);
  await friend.exited;
  await helper.exited;
  await until('every process of the session gone', () => sessionProcesses(shellPid).length === 0, 5000);
});
