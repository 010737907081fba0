// The helper's identity file and the friend's list of helpers on disk: owner-only, a name that
// survives a new identity, a file others could change refused (never used, never overwritten),
// and a read-only disk said in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { identityStore } from '../src/app/identity';
import { knownHelpers } from '../src/app/known-helpers';
import { HelpError } from '../src/errors';
import { tempDir } from './harness';

const id = (c: string) => `SHA256:${c.repeat(43)}`;

test('the identity is made once, owner-only, with the name as its comment (ssh-keygen shows both)', () => {
  const dir = path.join(tempDir(), 'remote-help');
  const store = identityStore(dir);
  assert.equal(store.name(), '');
  assert.ok(!fs.existsSync(store.file), 'asking the name makes nothing');
  const first = store.load();
  assert.equal(first.note, null);
  assert.equal(fs.statSync(store.file).mode & 0o777, 0o600);
  assert.equal(store.load().fingerprint, first.fingerprint);
  const named = store.setName('Zoë, your neighbour');
  assert.equal(named.fingerprint, first.fingerprint, 'a name does not change who you are');
  assert.equal(identityStore(dir).name(), 'Zoë, your neighbour');
  const out = execFileSync('ssh-keygen', ['-l', '-f', store.file], { encoding: 'utf8' });
  assert.match(out, new RegExp(`^256 ${first.fingerprint.replace(/[+/]/g, '\\$&')} Zoë, your neighbour \\(ED25519\\)`));
  const fresh = store.load(true);
  assert.notEqual(fresh.fingerprint, first.fingerprint);
  assert.equal(fresh.name, 'Zoë, your neighbour');
  assert.equal(store.load().fingerprint, fresh.fingerprint);
  assert.throws(() => store.setName('a\u202eb'), (e: unknown) => e instanceof HelpError && /control character/.test(e.message));
});

test('an identity file others could read or change, or that is not a key, is refused with what to do', () => {
  const store = identityStore(tempDir());
  store.load();
  for (const m of [0o640, 0o604, 0o660, 0o666]) {
    fs.chmodSync(store.file, m);
    assert.throws(() => store.load(), (e: unknown) => e instanceof HelpError && e.exit === 'usage' &&
      e.message.includes(`other users of this computer can read or change it (mode ${m.toString(8)})`) && e.next.includes(`chmod 600 ${store.file}`));
    assert.equal(store.name(), '');
  }
  fs.writeFileSync(store.file, 'not a key\n', { mode: 0o600 });
  fs.chmodSync(store.file, 0o600);
  assert.throws(() => store.load(), /not an unencrypted Ed25519 key/);
  assert.ok(store.load(true).fingerprint, '--new-identity replaces what cannot be read');
});

test('the friend\'s list: kept owner-only and counted; a file others could change is not trusted nor overwritten; garbage is ignored', () => {
  const dir = tempDir();
  const list = knownHelpers(dir);
  assert.equal(list.note(), null);
  assert.equal(list.met(id('a'), 'Alex', 1000), null);
  assert.equal(list.met(id('a'), 'Alex', 2000), null);
  const file = path.join(dir, 'helpers');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(list.recall(id('a'), 'Alex'), { kind: 'known', name: 'Alex', before: 'Alex', last: 2000, sessions: 2 });
  fs.chmodSync(file, 0o620);
  assert.match(list.note() ?? '', /does not trust its list of helpers you know .*other users can change it \(mode 620\)/);
  assert.deepEqual(list.recall(id('a'), 'Alex'), { kind: 'new', name: 'Alex' });
  const text = fs.readFileSync(file, 'utf8');
  assert.match(list.met(id('a'), 'Alex', 3000) ?? '', /does not trust/);
  assert.equal(fs.readFileSync(file, 'utf8'), text);
  fs.writeFileSync(file, '{"helpers":[{"id":"x","name":"\\u001b[2J","first":1,"last":1,"sessions":1}, 7]}', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  assert.deepEqual(list.recall(id('a'), 'Alex'), { kind: 'new', name: 'Alex' });
});

test('on a read-only disk: the friend is told helpers will not be remembered; the helper, that friends will see a new helper', () => {
  const mnt = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'none', mnt]); // a real read-only disk (as root, like CI)
  try {
    const list = knownHelpers(path.join(mnt, 'remote-help'));
    assert.equal(list.note(), 'The disk is read-only here, so this helper will not be remembered.');
    assert.equal(list.met(id('a'), 'Alex'), 'The disk is read-only here, so this helper will not be remembered.');
    const me = identityStore(path.join(mnt, 'remote-help')).load();
    assert.match(me.note ?? '', /could not be saved in .* \(the disk is read-only\), so friends will see you as a new helper next time/);
    assert.match(me.fingerprint, /^SHA256:/);
  } finally {
    execFileSync('umount', [mnt]);
  }
});
