// The friend's side remembers the last helper that worked; on a read-only disk it says so and
// carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileMemory } from '../src/app/memory';
import { connectedPair, tempDir } from './harness';

test('an address is remembered with owner-only permissions and read back', () => {
  const dir = path.join(tempDir(), 'remote-help');
  const m = fileMemory(dir);
  assert.equal(m.lastHelper(), '');
  assert.equal(m.note(), null);
  assert.equal(m.remember('192.0.2.10:2300'), null);
  assert.equal(m.lastHelper(), '192.0.2.10:2300');
  assert.equal(fs.statSync(path.join(dir, 'last-helper')).mode & 0o777, 0o600);
});

test('a remembered file with garbage in it is ignored', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'last-helper'), 'a b\x1b[2J\n');
  assert.equal(fileMemory(dir).lastHelper(), '');
});

test('on a read-only disk the friend is told the address will not be remembered, and nothing fails', () => {
  const mnt = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'none', mnt]); // a real read-only disk (as root, like CI)
  try {
    const m = fileMemory(path.join(mnt, 'remote-help'));
    assert.match(m.note() ?? '', /read-only.*not be remembered/);
    assert.match(m.remember('192.0.2.10') ?? '', /read-only/);
    assert.equal(m.lastHelper(), '');
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('after a session the friend\'s side remembers the helper it reached', async () => {
  const dir = tempDir();
  const { friend, helper, port } = await connectedPair({ friendEnv: { REMOTE_HELP_CONFIG_DIR: dir } });
  friend.write('\x1b\x03');
  await Promise.all([friend.exited, helper.exited]);
  assert.equal(fs.readFileSync(path.join(dir, 'last-helper'), 'utf8').trim(), `127.0.0.1:${port}`);
});
