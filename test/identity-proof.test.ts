// The helper's identity in the handshake (pure parts): its fingerprint is OpenSSH's, its PROOF is
// a signature of this transcript only, the code covers the name and the key, and a key or a
// signature copied from another connection is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Handshake, type HandshakeEvent } from '../src/net/handshake';
import { fingerprint, identityFromSeed, proofValid, signProof, type IdentityKey } from '../src/net/identity';
import { opensshEd25519 } from '../src/net/keys';
import { decodeMessage, ed25519Blob, encodeMessage, type Info, type Role } from '../src/net/messages';
import { FrameDecoder } from '../src/net/frames';
import { tempDir } from './harness';

function makeInfo(role: Role, id?: { key: IdentityKey; name: string }): Info {
  return {
    role, user: role, host: `${role}-pc`, publicKey: ed25519Blob(randomBytes(32)), nonce: randomBytes(32), caps: 0,
    ...(id ? { identity: { key: id.key.publicBlob, name: id.name } } : {}),
  };
}

/** One side over an in-memory wire; `tamper` may rewrite each frame it sends. */
class Side {
  readonly events: HandshakeEvent[] = [];
  readonly wire: Buffer[] = [];
  readonly hs: Handshake;
  constructor(committer: boolean, readonly info: Info, seed?: Buffer) {
    this.hs = new Handshake({ committer, local: info, idSeed: seed, send: (b) => this.wire.push(b), onEvent: (e) => this.events.push(e) });
  }
  get kinds() {
    return this.events.map((e) => e.kind);
  }
  code() {
    const e = this.events.find((x) => x.kind === 'code');
    return e?.kind === 'code' ? e : undefined;
  }
  failed() {
    const e = this.events.find((x) => x.kind === 'failed');
    return e?.kind === 'failed' ? e : undefined;
  }
}

function settle(a: Side, b: Side, rewrite: (frame: Buffer, from: Side) => Buffer = (f) => f) {
  const move = (from: Side, to: Side) => {
    if (from.wire.length === 0) return false;
    for (const f of from.wire.splice(0)) to.hs.receive(rewrite(f, from));
    return true;
  };
  while (move(a, b) || move(b, a));
}

const alex = { key: identityFromSeed(randomBytes(32)), name: 'Alex, your nephew' };

test('the fingerprint is the one ssh-keygen prints for the same key', () => {
  const seed = randomBytes(32);
  const id = identityFromSeed(seed);
  const file = path.join(tempDir(), 'id');
  fs.writeFileSync(file, opensshEd25519(seed, id.publicBlob.subarray(19)).privateKey, { mode: 0o600 });
  const out = execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' });
  assert.equal(out.split(' ')[1], fingerprint(id.publicBlob));
  assert.match(fingerprint(id.publicBlob), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('a proof checks out for its own key and transcript only', () => {
  const t = randomBytes(32);
  const sig = signProof(alex.key.seed, t);
  assert.equal(proofValid(alex.key.publicBlob, t, sig), true);
  assert.equal(proofValid(alex.key.publicBlob, randomBytes(32), sig), false);
  assert.equal(proofValid(identityFromSeed(randomBytes(32)).publicBlob, t, sig), false);
  const bent = Buffer.from(sig);
  bent[10] ^= 1;
  assert.equal(proofValid(alex.key.publicBlob, t, bent), false);
  assert.equal(proofValid(Buffer.alloc(51), t, sig), false);
});

for (const helperCommits of [true, false]) {
  test(`the friend sees the helper's name and key, proven, with the code (helper ${helperCommits ? 'connects' : 'waits'})`, () => {
    const helper = new Side(helperCommits, makeInfo('helper', alex), alex.key.seed);
    const friend = new Side(!helperCommits, makeInfo('friend'));
    helper.hs.start();
    friend.hs.start();
    settle(helper, friend);
    assert.deepEqual(friend.code()!.peer.identity, { key: alex.key.publicBlob, name: alex.name });
    assert.equal(friend.code()!.code, helper.code()!.code);
    helper.hs.confirm();
    friend.hs.confirm();
    settle(helper, friend);
    assert.deepEqual(friend.kinds, ['code', 'peerConfirmed', 'done']);
    assert.deepEqual(helper.kinds, ['code', 'peerConfirmed', 'done']);
  });
}

test('no code is shown and no confirmation counts before the proof has arrived', () => {
  const helper = new Side(false, makeInfo('helper', alex), alex.key.seed);
  const friend = new Side(true, makeInfo('friend'));
  helper.hs.start();
  friend.hs.start();
  // Everything but the helper's PROOF (its last frame) reaches the friend.
  settle(helper, friend, (f, from) => (from === helper && f[2] === 6 ? Buffer.alloc(0) : f));
  assert.equal(friend.hs.phase, 'verify');
  assert.deepEqual(friend.kinds, []);
  friend.hs.confirm(); // nothing to confirm yet
  assert.equal(friend.wire.length, 0);
});

test('an identity swapped on the way, or a proof from another connection, is refused: no code is shown', () => {
  // On the way, Alex's key and name replace the helper's own in its INFO: the commitment catches it.
  const mallory = identityFromSeed(randomBytes(32));
  const helper = new Side(true, makeInfo('helper', { key: mallory, name: 'Mallory' }), mallory.seed);
  const friend = new Side(false, makeInfo('friend'));
  helper.hs.start();
  friend.hs.start();
  settle(helper, friend, (f, from) => {
    if (from !== helper || f[2] !== 3) return f;
    const d = new FrameDecoder();
    d.push(f);
    const r = d.next();
    const m = r && 'frame' in r ? decodeMessage(r.frame) : null;
    if (!m || !('message' in m) || m.message.type !== 'info') return f;
    return encodeMessage({ type: 'info', info: { ...m.message.info, identity: { key: alex.key.publicBlob, name: alex.name } } });
  });
  assert.match(friend.failed()!.message, /did not match what it promised/);
  assert.equal(friend.code(), undefined);

  const h2 = new Side(false, makeInfo('helper', alex), alex.key.seed);
  const f2 = new Side(true, makeInfo('friend'));
  h2.hs.start();
  f2.hs.start();
  // A PROOF replayed from another transcript (or made by another key) is refused.
  settle(h2, f2, (f, from) => (from === h2 && f[2] === 6 ? encodeMessage({ type: 'proof', signature: signProof(mallory.seed, randomBytes(32)) }) : f));
  assert.match(f2.failed()!.message, /says it is Alex, your nephew, but could not prove it/);
  assert.equal(f2.code(), undefined);
});

test('a man in the middle who swaps the identity for his own gets different codes on the two sides', () => {
  // He runs two honest handshakes: as the friend towards Alex, as "Alex" (his own key) towards the friend.
  const mallory = { key: identityFromSeed(randomBytes(32)), name: alex.name };
  const helper = new Side(true, makeInfo('helper', alex), alex.key.seed);
  const mFriend = new Side(false, makeInfo('friend'));
  const mHelper = new Side(true, makeInfo('helper', mallory), mallory.key.seed);
  const friend = new Side(false, makeInfo('friend'));
  for (const s of [helper, mFriend, mHelper, friend]) s.hs.start();
  settle(helper, mFriend);
  settle(mHelper, friend);
  assert.deepEqual(friend.code()!.peer.identity!.name, alex.name);
  assert.notDeepEqual(friend.code()!.peer.identity!.key, alex.key.publicBlob); // a different identity...
  assert.notEqual(friend.code()!.code, helper.code()!.code); // ...and the code read aloud does not match
});

test('a handshake refuses an identity whose seed is not its own', () => {
  assert.throws(() => new Side(true, makeInfo('helper', alex), randomBytes(32)), /does not belong to its seed/);
  assert.throws(() => new Side(true, makeInfo('helper', alex)), /does not belong to its seed/);
});
