import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { encodeFrame } from '../src/net/frames';
import {
  Handshake, initialState, MAX_EARLY_SSH_BYTES, step, type HandshakeEvent,
} from '../src/net/handshake';
import { ed25519Blob, encodeMessage, type Info, type Role } from '../src/net/messages';

const other = (r: Role): Role => (r === 'friend' ? 'helper' : 'friend');

function makeInfo(role: Role, user = role === 'friend' ? 'anna' : 'ben'): Info {
  return { role, user, host: `${user}-pc`, publicKey: ed25519Blob(randomBytes(32)), nonce: randomBytes(32), caps: role === 'friend' ? 1 : 0 };
}

/** One end of an in-memory wire: what it sent waits in `wire` until delivered. */
class Side {
  readonly events: HandshakeEvent[] = [];
  readonly wire: Buffer[] = [];
  readonly sent: Buffer[] = [];
  readonly hs: Handshake;
  constructor(readonly committer: boolean, readonly info: Info) {
    this.hs = new Handshake({
      committer, local: info,
      send: (b) => (this.wire.push(b), this.sent.push(b)),
      onEvent: (e) => this.events.push(e),
    });
  }
  event<K extends HandshakeEvent['kind']>(kind: K): Extract<HandshakeEvent, { kind: K }> | undefined {
    return this.events.find((e) => e.kind === kind) as Extract<HandshakeEvent, { kind: K }> | undefined;
  }
  get kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

type Mode = 'bytes' | 'blob';

/** Move everything queued on `from` to `to`, as one blob or one byte at a time. */
function deliver(from: Side, to: Side, mode: Mode): boolean {
  if (from.wire.length === 0) return false;
  const all = Buffer.concat(from.wire.splice(0));
  if (mode === 'blob') to.hs.receive(all);
  else for (const b of all) to.hs.receive(Buffer.from([b]));
  return true;
}

function settle(a: Side, b: Side, mode: Mode): void {
  while (deliver(a, b, mode) || deliver(b, a, mode));
}

function pair(committerRole: Role, mode: Mode = 'blob'): { c: Side; r: Side } {
  const c = new Side(true, makeInfo(committerRole));
  const r = new Side(false, makeInfo(other(committerRole)));
  c.hs.start();
  r.hs.start();
  settle(c, r, mode);
  return { c, r };
}

for (const committerRole of ['friend', 'helper'] as Role[]) {
  for (const mode of ['bytes', 'blob'] as Mode[]) {
    test(`a ${committerRole} that connects and its peer agree on the code (delivered as ${mode})`, () => {
      const { c, r } = pair(committerRole, mode);
      assert.equal(c.hs.phase, 'verify');
      assert.equal(r.hs.phase, 'verify');
      const cc = c.event('code')!;
      const rc = r.event('code')!;
      assert.match(cc.code, /^[0-9A-HJKMNP-TV-Z]{5}$/);
      assert.equal(cc.code, rc.code);
      assert.deepEqual(cc.peer, r.info);
      assert.deepEqual(rc.peer, c.info);
      c.hs.confirm();
      r.hs.confirm();
      settle(c, r, mode);
      assert.deepEqual(c.kinds, ['code', 'peerConfirmed', 'done']);
      assert.deepEqual(r.kinds, ['code', 'peerConfirmed', 'done']);
      assert.deepEqual(c.event('done')!.leftover, Buffer.alloc(0));
      assert.deepEqual(c.event('done')!.peer, r.info);
    });
  }
}

test('two handshakes wired directly, confirming from inside their event handlers, finish in order', () => {
  const log: string[] = [];
  let a!: Handshake;
  let b!: Handshake;
  const ssh = Buffer.from('SSH-2.0-x\r\n');
  const make = (name: string, committer: boolean, role: Role, peer: () => Handshake) =>
    new Handshake({
      committer, local: makeInfo(role),
      send: (bytes) => peer().receive(bytes),
      onEvent: (e) => {
        log.push(`${name}:${e.kind}`);
        if (e.kind === 'code' && name === 'a') a.confirm(); // re-entered while a is busy: queued
        if (e.kind === 'done' && name === 'a') assert.deepEqual(e.leftover, Buffer.alloc(0));
        if (e.kind === 'done' && name === 'b') assert.deepEqual(e.leftover, ssh);
      },
    });
  a = make('a', true, 'friend', () => b);
  b = make('b', false, 'helper', () => a);
  a.start();
  b.start();
  assert.equal(a.phase, 'verify');
  assert.equal(b.phase, 'verify');
  assert.deepEqual(log, ['a:code', 'b:code', 'b:peerConfirmed']);
  b.receive(ssh); // bytes from a's SSH, sent as soon as a has confirmed
  b.confirm();
  assert.equal(a.phase, 'done');
  assert.equal(b.phase, 'done');
  assert.deepEqual(log.filter((l) => l.startsWith('a:')), ['a:code', 'a:peerConfirmed', 'a:done']);
  assert.deepEqual(log.filter((l) => l.startsWith('b:')), ['b:code', 'b:peerConfirmed', 'b:done']);
});

test('the committer sends HELLO and COMMIT at once; the responder reveals INFO only after COMMIT', () => {
  const c = new Side(true, makeInfo('friend'));
  const r = new Side(false, makeInfo('helper'));
  c.hs.start();
  r.hs.start();
  assert.equal(c.sent.length, 2);
  assert.equal(r.sent.length, 1); // HELLO only
  const commitFrame = c.sent[1];
  r.hs.receive(c.sent[0]);
  assert.equal(r.sent.length, 1);
  r.hs.receive(commitFrame);
  assert.equal(r.sent.length, 2); // now its INFO
  // The commitment is the hash of the INFO frame the committer sends later.
  c.wire.length = 0;
  r.wire.length = 0;
  c.hs.receive(Buffer.concat(r.sent));
  const committerInfo = c.sent[2];
  assert.deepEqual(commitFrame.subarray(3), createHash('sha256').update(committerInfo).digest());
});

test('SSH bytes right behind CONFIRMED, in the same chunk or later, come out as leftover', () => {
  for (const mode of ['bytes', 'blob'] as Mode[]) {
    const { c, r } = pair('helper');
    c.hs.confirm();
    c.wire.push(Buffer.from('SSH-2.0-remote-help\r\n')); // not a frame: must not be decoded
    deliver(c, r, mode);
    assert.deepEqual(r.kinds, ['code', 'peerConfirmed']);
    r.hs.receive(Buffer.from('more ssh'));
    r.hs.confirm();
    assert.deepEqual(r.kinds, ['code', 'peerConfirmed', 'done']);
    assert.equal(r.event('done')!.leftover.toString(), 'SSH-2.0-remote-help\r\nmore ssh');
    assert.equal(r.hs.phase, 'done');
    r.hs.receive(Buffer.from('after done')); // ignored: the caller owns the socket now
    assert.equal(r.events.length, 3);
  }
});

test('confirming before the peer does and after it does both finish', () => {
  const { c, r } = pair('friend');
  r.hs.confirm(); // first
  r.hs.confirm(); // twice is once
  deliver(r, c, 'blob');
  assert.deepEqual(c.kinds, ['code', 'peerConfirmed']);
  assert.equal(c.hs.phase, 'verify');
  c.hs.confirm(); // after the peer's CONFIRMED
  assert.equal(c.hs.phase, 'done');
  assert.equal(r.hs.phase, 'verify');
  deliver(c, r, 'blob');
  assert.equal(r.hs.phase, 'done');
  assert.equal(r.sent.filter((b) => b[2] === 4).length, 1);
});

test('a committer whose INFO differs from its COMMIT is caught as tampering', () => {
  const c = new Side(true, makeInfo('friend'));
  c.hs.start(); // sent HELLO and COMMIT; an INFO with other details follows
  const forged = encodeMessage({ type: 'info', info: { ...c.info, user: 'mallory' } });
  const r2 = new Side(false, makeInfo('helper'));
  r2.hs.start();
  r2.hs.receive(Buffer.concat([c.sent[0], c.sent[1], forged]));
  const failed = r2.event('failed')!;
  assert.equal(failed.reason, 'protocol-error');
  assert.equal(failed.fromPeer, false);
  assert.match(failed.message, /did not match what it promised \(possible tampering\)/);
  assert.equal(r2.event('code'), undefined);
  assert.equal(r2.hs.phase, 'failed');
  assert.equal(r2.sent.at(-1)![2], 5); // said goodbye with ABORT
});

test('two sides with the same role both stop with a plain message', () => {
  for (const role of ['friend', 'helper'] as Role[]) {
    const c = new Side(true, makeInfo(role));
    const r = new Side(false, makeInfo(role));
    c.hs.start();
    r.hs.start();
    settle(c, r, 'blob');
    for (const s of [c, r]) {
      assert.equal(s.hs.phase, 'failed');
      assert.match(s.events[0].kind === 'failed' ? s.events[0].message : '', new RegExp(`Both sides chose to be the ${role}`));
      assert.equal(s.events.length, 1);
    }
  }
});

test('an ABORT from the peer ends the handshake with its reason and text', () => {
  const { c, r } = pair('friend');
  r.hs.abort('code-mismatch', 'helper typed K73XB');
  deliver(r, c, 'blob');
  const mine = r.event('failed')!;
  assert.deepEqual([mine.reason, mine.fromPeer], ['code-mismatch', false]);
  const theirs = c.event('failed')!;
  assert.deepEqual([theirs.reason, theirs.fromPeer], ['code-mismatch', true]);
  assert.equal(theirs.message, 'The other side stopped: the code did not match.');
  assert.equal(c.hs.phase, 'failed');
  const before = c.sent.length;
  c.hs.confirm();
  c.hs.abort('cancelled', 'too late');
  assert.equal(c.sent.length, before); // never answers an ABORT
  r.hs.abort('cancelled', 'again'); // already failed: nothing more is sent
  assert.equal(r.wire.length, 0);
});

test('an INFO whose role differs from its HELLO, or that echoes our nonce, is refused', () => {
  const r = new Side(false, makeInfo('helper'));
  const rows: [Info, RegExp][] = [
    [makeInfo('helper'), /the role in INFO differs from the role in HELLO/],
    [{ ...makeInfo('friend'), nonce: r.info.nonce }, /INFO repeats our own nonce/],
  ];
  for (const [peer, want] of rows) {
    const side = new Side(false, r.info);
    side.hs.start();
    const info = encodeMessage({ type: 'info', info: peer });
    side.hs.receive(Buffer.concat([
      encodeMessage({ type: 'hello', role: 'friend' }),
      encodeMessage({ type: 'commit', hash: createHash('sha256').update(info).digest() }),
      info,
    ]));
    assert.match(side.event('failed')?.message ?? '', want);
    assert.equal(side.event('code'), undefined);
  }
});

test('a busy peer can refuse right after HELLO', () => {
  const c = new Side(true, makeInfo('helper'));
  c.hs.start();
  c.hs.receive(Buffer.concat([
    encodeMessage({ type: 'hello', role: 'friend' }),
    encodeMessage({ type: 'abort', reason: 'busy', text: '' }),
  ]));
  assert.deepEqual(c.events, [{ kind: 'failed', reason: 'busy', fromPeer: true,
    message: 'The other side is busy with another session. Try again later.' }]);
});

test('bytes that are not remote-help fail with a message a person can read', () => {
  const rows: [Buffer, string][] = [
    [Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), 'The other side speaks plain SSH, not remote-help.'],
    [Buffer.from([0x47, 0x45, 0x58, 0x58]), 'The other side sent something remote-help does not understand (frame of 18245 bytes is larger than the 2048 allowed).'],
    [encodeFrame(1, Buffer.from('RHLP\x07\x01', 'latin1')), 'The other side runs an incompatible version (protocol 7).'],
  ];
  for (const [bytes, message] of rows) {
    const r = new Side(false, makeInfo('helper'));
    r.hs.start();
    r.hs.receive(bytes);
    assert.deepEqual(r.events, [{ kind: 'failed', reason: 'protocol-error', message, fromPeer: false }]);
    assert.equal(r.sent.length, 2); // HELLO, then ABORT
  }
});

test('too much SSH data while waiting for the local confirmation fails instead of growing', () => {
  const { c, r } = pair('friend');
  c.hs.confirm();
  deliver(c, r, 'blob');
  r.hs.receive(Buffer.alloc(MAX_EARLY_SSH_BYTES - 10));
  assert.equal(r.hs.phase, 'verify');
  r.hs.receive(Buffer.alloc(11));
  assert.equal(r.hs.phase, 'failed');
  assert.match(r.event('failed')!.message, /too much data/);
});

test('SSH bytes trickling in one byte at a time are all kept, in order', () => {
  const { c, r } = pair('helper');
  c.hs.confirm();
  deliver(c, r, 'blob');
  const ssh = randomBytes(100_000);
  for (const b of ssh) r.hs.receive(Buffer.from([b]));
  r.hs.confirm();
  assert.deepEqual(r.event('done')!.leftover, ssh);
});

test('the reducer is pure: a step returns a new state and leaves the old one alone', () => {
  const s0 = initialState(true, makeInfo('friend'));
  const { state, effects } = step(s0, { kind: 'start' });
  assert.equal(s0.started, false);
  assert.equal(state.started, true);
  assert.deepEqual(effects.map((e) => e.kind), ['send', 'send']);
  assert.deepEqual(step(state, { kind: 'start' }).effects, []);
});

test('a man in the middle who runs a handshake with each side gets different codes', () => {
  let same = 0;
  for (let i = 0; i < 50; i++) {
    // Anna dials Mallory, Mallory dials Ben; Mallory copies names to look real.
    const anna = new Side(true, makeInfo('friend', 'anna'));
    const malloryAsHelper = new Side(false, makeInfo('helper', 'ben'));
    const malloryAsFriend = new Side(true, makeInfo('friend', 'anna'));
    const ben = new Side(false, makeInfo('helper', 'ben'));
    for (const s of [anna, malloryAsHelper, malloryAsFriend, ben]) s.hs.start();
    settle(anna, malloryAsHelper, 'blob');
    settle(malloryAsFriend, ben, 'blob');
    const a = anna.event('code')!.code;
    const b = ben.event('code')!.code;
    if (a === b) same++;
  }
  assert.ok(same <= 1, `${same} of 50 codes collided`);
});

// Every message in every phase: one accepted step, everything else a
// protocol error with a reason, after which nothing is processed.
type Stage = 'hello' | 'info' | 'info+commit' | 'verify';
type Kind = 'hello' | 'commit' | 'info' | 'confirmed' | 'abort' | 'unknown' | 'malformed';

function scripted(committer: boolean, stage: Stage) {
  const side = new Side(committer, makeInfo(committer ? 'friend' : 'helper'));
  const peer = makeInfo(committer ? 'helper' : 'friend');
  const info = encodeMessage({ type: 'info', info: peer });
  const frames: Record<Kind, Buffer> = {
    hello: encodeMessage({ type: 'hello', role: peer.role }),
    commit: encodeMessage({ type: 'commit', hash: createHash('sha256').update(info).digest() }),
    info,
    confirmed: encodeMessage({ type: 'confirmed' }),
    abort: encodeMessage({ type: 'abort', reason: 'cancelled', text: 'bye' }),
    unknown: encodeFrame(9, Buffer.alloc(0)),
    malformed: encodeFrame(3, Buffer.from([1, 2])),
  };
  const setup: Record<Stage, Kind[]> = committer
    ? { hello: [], info: ['hello'], 'info+commit': [], verify: ['hello', 'info'] }
    : { hello: [], info: ['hello'], 'info+commit': ['hello', 'commit'], verify: ['hello', 'commit', 'info'] };
  side.hs.start();
  for (const k of setup[stage]) side.hs.receive(frames[k]);
  assert.equal(side.hs.phase, stage === 'info+commit' ? 'info' : stage);
  assert.equal(side.events.some((e) => e.kind === 'failed'), false);
  return { side, frames };
}

const ALL: Kind[] = ['hello', 'commit', 'info', 'confirmed', 'abort', 'unknown', 'malformed'];
// [who, stage, the one accepted message, reasons for the refused ones]
const TABLE: ['committer' | 'responder', Stage, Kind, Partial<Record<Kind, RegExp>>][] = [
  ['committer', 'hello', 'hello', { commit: /COMMIT before HELLO/, info: /INFO before HELLO/, confirmed: /CONFIRMED before HELLO/ }],
  ['committer', 'info', 'info', { hello: /a second HELLO/, commit: /only the side that connected sends one/, confirmed: /CONFIRMED before both sides exchanged details/ }],
  ['committer', 'verify', 'confirmed', { hello: /a second HELLO/, commit: /only the side that connected/, info: /INFO after both sides exchanged details/ }],
  ['responder', 'hello', 'hello', { commit: /COMMIT before HELLO/, info: /INFO before HELLO/, confirmed: /CONFIRMED before HELLO/ }],
  ['responder', 'info', 'commit', { hello: /a second HELLO/, info: /INFO before COMMIT/, confirmed: /CONFIRMED before both/ }],
  ['responder', 'info+commit', 'info', { hello: /a second HELLO/, commit: /a second COMMIT/, confirmed: /CONFIRMED before both/ }],
  ['responder', 'verify', 'confirmed', { hello: /a second HELLO/, commit: /a second COMMIT/, info: /INFO after both/ }],
];

for (const [who, stage, accepted, refused] of TABLE) {
  test(`${who} in phase ${stage}: accepts only ${accepted.toUpperCase()} (or ABORT)`, () => {
    for (const kind of ALL) {
      const { side, frames } = scripted(who === 'committer', stage);
      const sentBefore = side.sent.length;
      const eventsBefore = side.events.length;
      side.hs.receive(frames[kind]);
      if (kind === accepted) {
        assert.notEqual(side.hs.phase, 'failed', `${kind} should be accepted`);
        continue;
      }
      assert.equal(side.hs.phase, 'failed', `${kind} should fail`);
      const failed = side.event('failed')!;
      if (kind === 'abort') {
        assert.deepEqual([failed.reason, failed.fromPeer], ['cancelled', true]);
        assert.equal(side.sent.length, sentBefore);
      } else {
        const want = refused[kind] ?? (kind === 'unknown' ? /unknown message type 9/ : /ends early/);
        assert.equal(failed.reason, 'protocol-error');
        assert.equal(failed.fromPeer, false);
        assert.match(failed.message, want, `${kind}`);
        assert.match(failed.message, /^The other side sent something remote-help does not understand \(/);
        assert.equal(side.sent.length, sentBefore + 1);
        assert.equal(side.sent.at(-1)![2], 5, 'ABORT sent');
      }
      assert.equal(side.events.length, eventsBefore + 1);
      // Scared: nothing after the bad message is processed or answered.
      const sent = side.sent.length;
      for (const k of ALL) side.hs.receive(frames[k]);
      side.hs.confirm();
      side.hs.abort('timeout', 'late');
      assert.equal(side.sent.length, sent);
      assert.equal(side.events.length, eventsBefore + 1);
    }
  });
}
