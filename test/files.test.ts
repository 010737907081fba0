// Files through the shared shell (files-script.ts, helper-files.ts, friend-files.ts), with real
// processes: the helper's program types the commands into the friend's real shell and reads what
// it prints; every copy is checked byte for byte here too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { connectedPairWith, tempDir, until, type Side } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function pair(t: TestContext, o: { friendArgs?: string[] } = {}) {
  const p = await connectedPairWith({ t, ...o });
  t.after(() => {
    if (process.env.REMOTE_HELP_SHOW_SCREENS) for (const s of [p.friend, p.helper]) console.log(`--- ${s.name}\n${s.screen()}\n${JSON.stringify(s.events().slice(-8))}`);
  });
  // The friend's shell runs in its HOME, the folder startSide made: its first path is in the env.
  p.helper.write('cd "$HOME" && echo at-$((40+2))\r');
  await p.friend.waitFor('at-42');
  return p;
}

/** The helper types an escape and its answers on the status line. */
function escape(helper: Side, key: string, ...answers: (string | Buffer)[]) {
  helper.write(`\r~${key}`);
  for (const a of answers) helper.write(Buffer.concat([Buffer.from(a), Buffer.from('\r')]));
}

const friendHome = (friend: Side) => path.dirname(friend.eventsFile);

test('send and fetch: all 256 byte values and 10 MB of random bytes, both ways, SHA-256 equal; the mode is kept', { timeout: 240_000 }, async (t) => {
  const { friend, helper } = await pair(t);
  const here = tempDir('remote-help-files-');
  const small = path.join(here, 'all-bytes.bin');
  fs.writeFileSync(small, ALL_BYTES, { mode: 0o755 });
  escape(helper, 's', small, '');
  await helper.waitFor(/Sent all-bytes\.bin \(256 bytes, SHA-256 checked\)/, 30_000);
  const there = path.join(friendHome(friend), 'all-bytes.bin');
  assert.equal(sha(fs.readFileSync(there)), sha(ALL_BYTES));
  assert.equal(fs.statSync(there).mode & 0o777, 0o755, 'executable stays executable');

  const big = randomBytes(10 * 1000 * 1000);
  fs.writeFileSync(path.join(friendHome(friend), 'big.bin'), big);
  escape(helper, 'g', 'big.bin', path.join(here, 'big-fetched.bin'));
  await friend.waitFor(/wants to copy big\.bin/);
  friend.write('y');
  await helper.waitFor(/Fetched big\.bin/, 120_000);
  assert.equal(sha(fs.readFileSync(path.join(here, 'big-fetched.bin'))), sha(big));

  fs.writeFileSync(path.join(here, 'big-sent.bin'), big);
  fs.mkdirSync(path.join(friendHome(friend), 'sent-dir'));
  escape(helper, 's', path.join(here, 'big-sent.bin'), 'sent-dir/');
  await helper.waitFor(/Sent big-sent\.bin/, 120_000);
  t.diagnostic(`the helper's events: ${JSON.stringify(helper.events().filter((e) => e.event.startsWith('file')))}`);
  assert.equal(sha(fs.readFileSync(path.join(friendHome(friend), 'sent-dir', 'big-sent.bin'))), sha(big));

  escape(helper, 'g', 'all-bytes.bin', path.join(here, 'back.bin'));
  await friend.waitFor(/wants to copy all-bytes\.bin/);
  friend.write('y');
  await helper.waitFor(/Fetched all-bytes\.bin/, 30_000);
  assert.equal(sha(fs.readFileSync(path.join(here, 'back.bin'))), sha(ALL_BYTES));
  assert.equal(fs.statSync(path.join(here, 'back.bin')).mode & 0o777, 0o755);
  await until('no temporary file left', () => !fs.readdirSync(friendHome(friend)).some((n) => n.startsWith('.remote-help-')) && !fs.readdirSync(here).some((n) => n.startsWith('.remote-help-')));
});
