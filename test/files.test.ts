// Files through the shared shell (files-script.ts, helper-files.ts, friend-files.ts), with real
// processes: the helper's program types the commands into the friend's real shell and reads what
// it prints; every copy is checked byte for byte here too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { foregroundProgram } from '../src/session/processes';
import { connectedPairWith, tempDir, until, type Side } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function pair(t: TestContext, o: { friendArgs?: string[] } = {}) {
  const p = await connectedPairWith({ t, ...o });
  t.after(() => {
    if (process.env.REMOTE_HELP_SHOW_SCREENS) for (const s of [p.friend, p.helper]) console.log(`--- ${s.name}\n${s.screen()}\n${JSON.stringify(s.events().slice(-8))}\n${JSON.stringify(s.output().slice(-1500))}`);
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
  await friend.waitFor(/copy big\.bin/);
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
  await friend.waitFor(/copy all-bytes\.bin/);
  friend.write('y');
  await helper.waitFor(/Fetched all-bytes\.bin/, 30_000);
  assert.equal(sha(fs.readFileSync(path.join(here, 'back.bin'))), sha(ALL_BYTES));
  assert.equal(fs.statSync(path.join(here, 'back.bin')).mode & 0o777, 0o755);
  await until('no temporary file left', () => !fs.readdirSync(friendHome(friend)).some((n) => n.startsWith('.remote-help-')) && !fs.readdirSync(here).some((n) => n.startsWith('.remote-help-')));
});

/** Names and contents of everything under `dir`, as latin1 paths (any byte survives). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: Buffer, rel: string) => {
    for (const e of fs.readdirSync(d, { encoding: 'buffer', withFileTypes: true })) {
      const full = Buffer.concat([d, Buffer.from('/'), e.name]);
      const name = `${rel}${e.name.toString('latin1')}`;
      if (e.isDirectory()) walk(full, `${name}/`);
      else out[name] = sha(fs.readFileSync(full));
    }
  };
  walk(Buffer.from(dir), '');
  return out;
}

test('a folder fetched as tar; names with a space, a quote, a newline and a Latin-1 byte, both ways', { timeout: 120_000 }, async (t) => {
  const { friend, helper } = await pair(t);
  const here = tempDir('remote-help-files-');
  const home = friendHome(friend);
  const odd = Buffer.from([0x61, 0x20, 0x27, 0x0a, 0xe9, 0x62]); // a ' \n é(Latin-1) b
  const folder = path.join(home, 'my folder');
  fs.mkdirSync(path.join(folder, 'inner'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'the friend\'s notes\n'.repeat(1000));
  fs.writeFileSync(path.join(folder, 'inner', 'all-bytes.bin'), ALL_BYTES);
  fs.writeFileSync(Buffer.concat([Buffer.from(`${folder}/inner/`), odd]), 'odd name\n');
  escape(helper, 'g', 'my folder', path.join(here, 'fetched'));
  await friend.waitFor(/copy my folder/);
  friend.write('y');
  await helper.waitFor(/Fetched my folder/, 30_000);
  assert.deepEqual(tree(path.join(here, 'fetched')), tree(folder));

  // The helper types odd bytes as escapes: \n, \xe9, and \' is just a quote.
  fs.writeFileSync(Buffer.concat([Buffer.from(`${here}/`), odd]), ALL_BYTES);
  escape(helper, 's', `${here}/a '\\n\\xe9b`, '');
  await helper.waitFor(/Sent a '\\012\\351b \(256 bytes, SHA-256 checked\)/, 30_000);
  assert.equal(sha(fs.readFileSync(Buffer.concat([Buffer.from(`${home}/`), odd]))), sha(ALL_BYTES));
  // Sent again: the first stays, the second gets a new name.
  escape(helper, 's', `${here}/a '\\n\\xe9b`, '');
  await until('the second copy', () => fs.existsSync(Buffer.concat([Buffer.from(`${home}/`), odd, Buffer.from('.1')])), 30_000);
  await until('the helper told of it', () => helper.events().filter((e) => e.event === 'file-copy' && e.ok).length === 3, 30_000);
  assert.ok(fs.existsSync(Buffer.concat([Buffer.from(`${home}/`), odd, Buffer.from('.1')])));

  escape(helper, 'g', 'a \'\\n\\351b', `${here}/back`);
  await friend.waitFor(/copy a '/);
  friend.write('y');
  await helper.waitFor(/Fetched a '\\012\\351b/, 30_000);
  assert.equal(sha(fs.readFileSync(path.join(here, 'back'))), sha(ALL_BYTES));
});

test('the friend\'s Ctrl-C in the middle of a send or a fetch stops it and leaves no partial file on either side', { timeout: 180_000 }, async (t) => {
  const { friend, helper } = await pair(t);
  const here = tempDir('remote-help-files-');
  const home = friendHome(friend);
  const big = randomBytes(40 * 1000 * 1000);
  fs.writeFileSync(path.join(here, 'big.bin'), big);
  escape(helper, 's', path.join(here, 'big.bin'), '');
  await friend.waitFor(/is sending big\.bin \([1-9]\d* %\)/, 60_000);
  friend.write('\x03');
  await helper.waitFor(/The copy was stopped in the shell \(Ctrl-C\)/, 30_000);
  const left = () => fs.readdirSync(home).filter((n) => n === 'big.bin' || n.startsWith('.remote-help-'));
  assert.deepEqual(left(), [], 'nothing half sent on the friend\'s side');
  // The shell is the friend's again, and the helper's: the lines typed after Ctrl-C did nothing.
  helper.write('\recho back-$((6*7))\r');
  await friend.waitFor('back-42', 30_000);

  fs.writeFileSync(path.join(home, 'big-there.bin'), big);
  escape(helper, 'g', 'big-there.bin', path.join(here, 'got.bin'));
  await friend.waitFor(/copy big-there\.bin/);
  friend.write('y');
  await friend.waitFor(/is copying big-there\.bin from this computer \([1-9]\d* %\)/, 60_000);
  friend.write('\x03');
  await helper.waitFor(/stopped in the shell/, 30_000);
  assert.deepEqual(fs.readdirSync(here).filter((n) => n !== 'big.bin'), [], 'nothing half fetched on the helper\'s side');
  assert.deepEqual(left(), []);
});

test('a full-screen program, a helper who may only watch, or a friend who says no: nothing is typed, and each says why', { timeout: 120_000 }, async (t) => {
  const { friend, helper, shellPid } = await pair(t);
  const here = tempDir('remote-help-files-');
  fs.writeFileSync(path.join(here, 'a.txt'), 'hello\n');
  fs.writeFileSync(path.join(friendHome(friend), 'long.txt'), Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'));
  helper.write('less long.txt\r');
  await friend.waitFor('line 10');
  const before = friend.output().length;
  escape(helper, 's', path.join(here, 'a.txt'), '');
  assert.equal(foregroundProgram(shellPid), 'less');
  await helper.waitFor(/less is running in the shell: quit it first/);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!friend.output().slice(before).includes('remote-help-file'), 'nothing typed into less');
  helper.write('q');
  await until('less has quit', () => foregroundProgram(shellPid) === null, 10_000);

  escape(helper, 'g', 'long.txt', path.join(here, 'long.txt'));
  await friend.waitFor(/Press y or n: may \S+ copy long\.txt from this computer\?/);
  friend.write('n');
  await helper.waitFor(/Your friend said no/);
  assert.ok(!fs.existsSync(path.join(here, 'long.txt')));
});

test('view only: a copy is refused before anything is typed; the policy can turn copies off', { timeout: 120_000 }, async (t) => {
  const here = tempDir('remote-help-files-');
  fs.writeFileSync(path.join(here, 'a.txt'), 'hello\n');
  const watching = await connectedPairWith({ t, friendArgs: ['--view-only'] });
  escape(watching.helper, 's', path.join(here, 'a.txt'), '');
  await watching.helper.waitFor(/Your friend has the keyboard: nothing is typed/);
  assert.ok(!watching.friend.output().includes('remote-help-file'));
  watching.friend.write('\x1b[24~'); // F12 ends it
  await watching.friend.exited;

  const policy = path.join(tempDir('remote-help-policy-'), 'policy.conf');
  fs.writeFileSync(policy, 'file_transfer = false\n');
  const off = await connectedPairWith({ t, friendEnv: { REMOTE_HELP_POLICY: policy } });
  escape(off.helper, 's', path.join(here, 'a.txt'), '');
  await off.helper.waitFor(/Copying files is turned off by this computer's/);
  assert.ok(!off.friend.output().includes('remote-help-file'));
});

test('the friend\'s transcript marks each copy with its name, size and SHA-256, and holds the typed data', { timeout: 120_000 }, async (t) => {
  const { friend, helper } = await pair(t);
  const here = tempDir('remote-help-files-');
  fs.writeFileSync(path.join(here, 'all-bytes.bin'), ALL_BYTES);
  escape(helper, 's', path.join(here, 'all-bytes.bin'), '');
  await helper.waitFor(/Sent all-bytes\.bin/, 30_000);
  escape(helper, 'g', 'all-bytes.bin', path.join(here, 'back.bin'));
  await friend.waitFor(/copy all-bytes\.bin/);
  friend.write('y');
  await helper.waitFor(/Fetched all-bytes\.bin/, 30_000);
  friend.write('\x1b[24~');
  await friend.exited;
  const cast = fs.readdirSync(friendHome(friend)).find((n) => n.endsWith('.cast'));
  assert.ok(cast, 'a transcript');
  const events = fs.readFileSync(path.join(friendHome(friend), cast), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as [number, string, string]);
  const marks = events.filter((e) => e[1] === 'm').map((e) => e[2]);
  const digest = sha(ALL_BYTES);
  assert.ok(marks.some((m) => m.includes(`file sent by the helper: ${friendHome(friend)}/all-bytes.bin (256 bytes, SHA-256 ${digest})`)), JSON.stringify(marks));
  assert.ok(marks.some((m) => m === `file copied by the helper from this computer: all-bytes.bin (256 bytes, SHA-256 ${digest})`), JSON.stringify(marks));
  const typed = events.filter((e) => e[1] === 'i').map((e) => e[2]).join('');
  assert.ok(typed.includes(`#${ALL_BYTES.toString('base64')}`), 'the data as typed');
});
