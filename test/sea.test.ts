// The self-contained executable (scripts/sea.ts): built with its compressed form and checksums,
// then run as the friend on a machine view without Node on the PATH; its assets go to a private
// folder under /run (root) or the user's runtime directory, never /tmp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSea } from '../scripts/sea';
import { confirmCode, listeningPort, release, startSide, tempDir, until } from './harness';
import { sessionProcesses } from '../src/session/processes';

/** A PATH with every program of this machine's but Node and npm. */
function pathWithoutNode(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const d of (process.env.PATH ?? '').split(':').filter((x) => x && fs.existsSync(x)))
    for (const name of fs.readdirSync(d)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(name) || fs.existsSync(path.join(bin, name))) continue;
      fs.symlinkSync(path.join(d, name), path.join(bin, name));
    }
  return bin;
}

test('the self-contained executable: one file and its xz form with checksums; a whole session as the friend with no Node on the PATH', { timeout: 240_000 }, async (t) => {
  const dir = tempDir('remote-help-sea-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const built = await buildSea({ out: path.join(dir, 'sea') });
  t.diagnostic(`executable ${built.bytes} bytes, xz ${built.xz?.bytes} bytes`);
  assert.ok(built.xz);
  const sums = fs.readFileSync(path.join(dir, 'sea', 'SHA256SUMS'), 'utf8');
  for (const f of [built.file, built.xz.file])
    assert.ok(sums.includes(`${createHash('sha256').update(fs.readFileSync(f)).digest('hex')}  ${path.basename(f)}`), `SHA256SUMS names ${path.basename(f)}`);
  const unpacked = execFileSync('sh', ['-c', 'xz -dc "$1" | sha256sum', 'sh', built.xz.file], { encoding: 'utf8' }).split(' ')[0];
  assert.equal(unpacked, createHash('sha256').update(fs.readFileSync(built.file)).digest('hex'), 'the xz form is the executable');

  const bin = pathWithoutNode(dir);
  assert.notEqual(spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: bin } }).status, 0, 'no node on this PATH');
  const help = spawnSync(built.file, ['--help'], { env: { PATH: bin, HOME: dir }, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: remote-help/);
  assert.equal(help.stderr, '', 'no warning on the screen');

  const helper = startSide('helper', ['helper', '--port', '0']);
  t.after(() => release(helper));
  const port = await listeningPort(helper);
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`], { executable: built.file, env: { PATH: bin } });
  t.after(() => release(friend));
  const { shellPid } = await confirmCode(friend, helper);
  const started = friend.events().find((e) => e.event === 'session-started');
  assert.equal(started?.pty, '@lydell/node-pty', 'the embedded addon was written out and loaded');
  const uid = process.getuid?.() ?? 0;
  const assets = uid === 0 ? '/run/remote-help' : (process.env.XDG_RUNTIME_DIR ?? `/run/user/${uid}`);
  const written = fs.readdirSync(assets).filter((f) => f.startsWith('assets-'));
  assert.ok(written.length > 0, `assets written under ${assets}`);
  assert.equal(fs.statSync(assets).mode & 0o077, 0, 'a private folder');
  assert.equal(fs.readlinkSync(`/proc/${friend.pid}/exe`), built.file, 'the friend\'s program is the executable itself');
  helper.write('echo no-node-$((6*7))\r');
  await friend.waitFor(/^no-node-42\s*$/m);
  friend.write('\x1b\x03');
  assert.equal((await friend.exited).code, 5);
  await helper.exited;
  await until('the shell gone', () => sessionProcesses(shellPid).length === 0, 5000);
  assert.doesNotMatch(friend.output(), /Warning|single-executable/);
});
