// The helper's install: `npm pack`, then `npm install -g` of the tarball into an empty prefix with
// no compiler on the PATH (no gcc, g++, make or python), and the installed `remote-help helper`
// runs a whole session against a friend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, confirmCode, listeningPort, release, startSide, tempDir, until } from './harness';
import { sessionProcesses } from '../src/session/processes';

const COMPILERS = /^(gcc|g\+\+|cc|c\+\+|cpp|clang|make|gmake|python|x86_64-linux-gnu-|aarch64-linux-gnu-|ld$|as$)/;

/** A PATH with every program of this machine's but the compilers and build tools. */
function pathWithoutCompilers(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const dirs = [path.dirname(process.execPath), ...(process.env.PATH ?? '').split(':')].filter((d) => d && fs.existsSync(d));
  for (const d of dirs)
    for (const name of fs.readdirSync(d)) {
      if (COMPILERS.test(name) || fs.existsSync(path.join(bin, name))) continue;
      fs.symlinkSync(path.join(d, name), path.join(bin, name));
    }
  return bin;
}

test('npm pack, then npm install -g of it with no compiler on the PATH: the installed helper runs a session', { timeout: 240_000 }, async (t) => {
  const dir = tempDir('remote-help-install-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = pathWithoutCompilers(dir);
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const tool of ['gcc', 'g++', 'make', 'cc', 'python3'])
    assert.notEqual(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status, 0, `${tool} is hidden`);
  // dist/ is built by `npm test` before the tests; packing runs no script.
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const info = JSON.parse(packed.stdout)[0] as { filename: string; files: { path: string }[] };
  const shipped = info.files.map((f) => f.path);
  assert.ok(shipped.includes('bin/remote-help') && shipped.includes('dist/cli.js'));
  assert.deepEqual(shipped.filter((f) => !/^(bin|dist)\/|^(package\.json|README\.md|LICENSE)$/.test(f)), [], 'only what runs is shipped');
  const prefix = path.join(dir, 'prefix');
  const installed = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', path.join(dir, info.filename)], { cwd: dir, env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
  const program = path.join(prefix, 'bin', 'remote-help');
  assert.ok(fs.existsSync(program), 'remote-help is on the prefix\'s PATH');

  const helper = startSide('helper', ['helper', '--port', '0'], { bin: program, env: { PATH: bin } });
  t.after(() => release(helper));
  const port = await listeningPort(helper);
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`]);
  t.after(() => release(friend));
  const { shellPid } = await confirmCode(friend, helper);
  helper.write('echo installed-$((6*7))\r');
  await friend.waitFor('installed-42');
  await helper.waitFor('installed-42');
  friend.write('\x1b\x03');
  assert.equal((await friend.exited).code, 5, 'the friend ended it with the hotkey');
  assert.equal((await helper.exited).code, 5, 'the installed helper was told so');
  await until('the shell gone', () => sessionProcesses(shellPid).length === 0, 5000);
});
