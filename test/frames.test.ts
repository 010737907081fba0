import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, MAX_FRAME_LEN, type Frame } from '../src/net/frames';
import {
  decodeMessage, ed25519Blob, encodeMessage, MessageType, safeText, type Info, type Message,
} from '../src/net/messages';

function drain(d: FrameDecoder): { frames: Frame[]; error?: string } {
  const frames: Frame[] = [];
  for (let r = d.next(); r; r = d.next()) {
    if ('error' in r) return { frames, error: r.error };
    frames.push(r.frame);
  }
  return { frames };
}

function decodeAll(bytes: Buffer): { frames: Frame[]; error?: string } {
  const d = new FrameDecoder();
  d.push(bytes);
  return drain(d);
}

// Small deterministic PRNG (mulberry32) so a failing garbage case can be replayed.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const info: Info = {
  role: 'friend', user: 'anna', host: 'annas-laptop', publicKey: ed25519Blob(Buffer.alloc(32, 7)),
  nonce: Buffer.alloc(32, 9), caps: 1,
};

test('a frame round-trips with its exact raw bytes', () => {
  const bytes = encodeFrame(3, Buffer.from('hello'));
  assert.deepEqual([...bytes.subarray(0, 3)], [0, 6, 3]);
  const { frames, error } = decodeAll(bytes);
  assert.equal(error, undefined);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].type, 3);
  assert.equal(frames[0].body.toString(), 'hello');
  assert.deepEqual(frames[0].raw, bytes);
});

test('an empty body and the largest body both round-trip; one byte more is refused', () => {
  assert.equal(decodeAll(encodeFrame(4, Buffer.alloc(0))).frames[0].body.length, 0);
  const big = encodeFrame(9, Buffer.alloc(MAX_FRAME_LEN - 1, 1));
  assert.equal(decodeAll(big).frames[0].body.length, MAX_FRAME_LEN - 1);
  assert.throws(() => encodeFrame(9, Buffer.alloc(MAX_FRAME_LEN)));
});

test('a stream split at every byte position gives the same frames', () => {
  const stream = Buffer.concat([
    encodeFrame(1, Buffer.from('RHLP\x01\x02', 'latin1')),
    encodeFrame(4, Buffer.alloc(0)),
    encodeFrame(3, Buffer.alloc(300, 0xab)),
    encodeFrame(5, Buffer.from('bye')),
  ]);
  const whole = decodeAll(stream).frames.map((f) => f.raw.toString('hex'));
  assert.equal(whole.length, 4);
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j += 37) {
      const d = new FrameDecoder();
      const got: string[] = [];
      for (const part of [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]) {
        d.push(part);
        const r = drain(d);
        assert.equal(r.error, undefined);
        got.push(...r.frames.map((f) => f.raw.toString('hex')));
      }
      assert.deepEqual(got, whole, `split at ${i} and ${j}`);
    }
  }
  // One byte at a time.
  const d = new FrameDecoder();
  const got: string[] = [];
  for (const b of stream) {
    d.push(Buffer.from([b]));
    got.push(...drain(d).frames.map((f) => f.raw.toString('hex')));
  }
  assert.deepEqual(got, whole);
});

test('bad headers are errors with a plain reason, and the error sticks', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['length 0', Buffer.from([0, 0, 1]), /length 0/],
    ['oversized', Buffer.from([0x08, 0x01, 1]), /frame of 2049 bytes is larger than the 2048 allowed/],
    ['plain SSH', Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), /^the other side speaks plain SSH, not remote-help$/],
    ['HTTP GET', Buffer.from('GET / HTTP/1.1\r\n'), /^the other side sent an HTTP request, not remote-help$/],
    ['HTTP POST', Buffer.from('POST /x HTTP/1.1\r\n'), /HTTP request/],
    ['HTTP HEAD', Buffer.from('HEAD / HTTP/1.1\r\n'), /HTTP request/],
    ['TLS', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), /TLS/],
    ['other text', Buffer.from('GEMINI'), /frame of 18245 bytes is larger than the 2048 allowed/],
  ];
  for (const [name, bytes, want] of cases) {
    const d = new FrameDecoder();
    for (const b of bytes) d.push(Buffer.from([b])); // split or not, same answer
    const first = d.next();
    assert.ok(first && 'error' in first, name);
    assert.match(first.error, want, name);
    d.push(encodeFrame(4, Buffer.alloc(0)));
    assert.deepEqual(d.next(), first, `${name}: stays in error`);
  }
});

test('a foreign protocol is only recognised at the start of the stream', () => {
  const r = decodeAll(Buffer.concat([encodeFrame(4, Buffer.alloc(0)), Buffer.from('SSH-2.0-x')]));
  assert.equal(r.frames.length, 1);
  assert.match(r.error ?? '', /larger than the 2048 allowed/);
});

test('rest() returns exactly the bytes not yet returned as frames', () => {
  const f1 = encodeFrame(1, Buffer.from('a'));
  const f2 = encodeFrame(4, Buffer.alloc(0));
  const ssh = Buffer.from('SSH-2.0-OpenSSH_9.6\r\n');
  const d = new FrameDecoder();
  d.push(Buffer.concat([f1, f2, ssh]));
  assert.deepEqual(d.rest(), Buffer.concat([f1, f2, ssh]));
  d.next();
  assert.deepEqual(d.rest(), Buffer.concat([f2, ssh]));
  d.next();
  assert.deepEqual(d.rest(), ssh); // the caller stops here: these bytes are SSH
  const e = new FrameDecoder();
  e.push(f1.subarray(0, 2));
  assert.equal(e.next(), null);
  assert.deepEqual(e.rest(), f1.subarray(0, 2));
});

test('the decoder never holds more than one frame of bytes when pulled after each push', () => {
  const stream = Buffer.concat([encodeFrame(3, Buffer.alloc(MAX_FRAME_LEN - 1, 5)), encodeFrame(3, Buffer.alloc(MAX_FRAME_LEN - 1, 6))]);
  const d = new FrameDecoder();
  let frames = 0;
  for (let i = 0; i < stream.length; i += 7) {
    d.push(stream.subarray(i, i + 7));
    frames += drain(d).frames.length;
    assert.ok(d.rest().length <= MAX_FRAME_LEN + 2);
  }
  assert.equal(frames, 2);
});

test('random garbage never throws and never yields an oversized frame', () => {
  const rand = prng(42);
  for (let n = 0; n < 3000; n++) {
    const len = Math.floor(rand() * 64);
    const buf = Buffer.alloc(len);
    for (let i = 0; i < len; i++) buf[i] = Math.floor(rand() * 256);
    // Small first bytes make valid-looking headers common, so messages get decoded too.
    if (rand() < 0.5 && len > 1) buf[0] = 0;
    const d = new FrameDecoder();
    d.push(buf);
    const { frames } = drain(d);
    for (const f of frames) {
      assert.ok(f.raw.length <= MAX_FRAME_LEN + 2);
      const m = decodeMessage(f);
      assert.ok('message' in m || typeof m.error === 'string');
    }
  }
});

test('every message round-trips', () => {
  const messages: Message[] = [
    { type: 'hello', role: 'helper' },
    { type: 'commit', hash: Buffer.alloc(32, 3) },
    { type: 'info', info },
    { type: 'info', info: { ...info, role: 'helper', user: 'Zoë', host: '', caps: 0xffffffff } },
    { type: 'info', info: { ...info, role: 'helper', identity: { key: ed25519Blob(Buffer.alloc(32, 5)), name: 'Alex, your nephew' } } },
    { type: 'confirmed' },
    { type: 'proof', signature: Buffer.alloc(64, 8) },
    { type: 'abort', reason: 'busy', text: 'someone else connected first' },
  ];
  for (const m of messages) {
    const r = decodeAll(encodeMessage(m));
    assert.equal(r.frames.length, 1);
    assert.deepEqual(decodeMessage(r.frames[0]), { message: m });
  }
});

function body(type: number, bytes: Buffer): string | undefined {
  const r = decodeMessage({ type, body: bytes, raw: encodeFrame(type, bytes) });
  return 'error' in r ? r.error : undefined;
}

test('bad message bodies are decode errors with a reason', () => {
  const infoBody = encodeMessage({ type: 'info', info }).subarray(3);
  const keyAt = 1 + 1 + 4 + 1 + 12 + 2; // role, user "anna", host "annas-laptop", key length
  // The same INFO with an identity named "Alex" (its last 5 bytes: str8 "Alex").
  const withIdentity = encodeMessage({ type: 'info', info: { ...info, identity: { key: ed25519Blob(Buffer.alloc(32, 5)), name: 'Alex' } } }).subarray(3);
  const withUser = (user: Buffer) => Buffer.concat([Buffer.from([1, user.length]), user, infoBody.subarray(6)]);
  const rows: [string, number, Buffer, RegExp][] = [
    ['wrong magic', 1, Buffer.from('SSH-\x01\x01', 'latin1'), /^the other side is not remote-help$/],
    ['short hello', 1, Buffer.from('RH'), /not remote-help/],
    ['other version', 1, Buffer.from('RHLP\x03\x01', 'latin1'), /^the other side runs an incompatible version \(protocol 3\)$/],
    ['version 1, before identities', 1, Buffer.from('RHLP\x01\x01', 'latin1'), /^the other side runs an incompatible version \(protocol 1\)$/],
    ['hello role 3', 1, Buffer.from('RHLP\x02\x03', 'latin1'), /unknown role/],
    ['hello too long', 1, Buffer.from('RHLP\x02\x01\x00', 'latin1'), /HELLO has 1 unexpected byte/],
    ['commit truncated', 2, Buffer.alloc(31), /COMMIT is 31 bytes long, expected 32/],
    ['commit too long', 2, Buffer.alloc(33), /33 bytes/],
    ['info truncated', 3, infoBody.subarray(0, infoBody.length - 1), /ends early/],
    ['info extra byte', 3, Buffer.concat([infoBody, Buffer.from([0])]), /INFO has 1 unexpected byte/],
    ['info empty', 3, Buffer.alloc(0), /unknown role/],
    ['rsa key', 3, Buffer.from(infoBody).fill(0x41, keyAt + 4, keyAt + 8), /not an Ed25519 SSH key/],
    ['control char in user', 3, withUser(Buffer.from('an\x1bna')), /user name contains a control character/],
    ['C1 char in user', 3, withUser(Buffer.from('an\u009bna')), /control character/],
    ['bidi override in user', 3, withUser(Buffer.from('an\u202ena')), /control character/],
    ['bad utf-8 in user', 3, withUser(Buffer.from([0x61, 0xff, 0x62])), /not valid UTF-8/],
    ['user too long', 3, withUser(Buffer.alloc(65, 0x61)), /longer than 64 bytes/],
    ['identity flag 2', 3, Buffer.concat([infoBody.subarray(0, -1), Buffer.from([2])]), /0 or 1/],
    ['identity missing', 3, Buffer.concat([infoBody.subarray(0, -1), Buffer.from([1])]), /ends early \(in the identity\)/],
    ['identity not ed25519', 3, Buffer.concat([withIdentity.subarray(0, -56), Buffer.alloc(51, 0x41), withIdentity.subarray(-5)]), /identity that is not an Ed25519/],
    ['identity without name', 3, Buffer.concat([withIdentity.subarray(0, -5), Buffer.from([0])]), /without a name/],
    ['identity name with escape', 3, Buffer.concat([withIdentity.subarray(0, -5), Buffer.from([4]), Buffer.from('Al\x1b[')]), /name contains a control character/],
    ['identity name too long', 3, Buffer.concat([withIdentity.subarray(0, -5), Buffer.from([65]), Buffer.alloc(65, 0x61)]), /name is longer than 64 bytes/],
    ['proof too short', 6, Buffer.alloc(63), /PROOF is 63 bytes long, expected 64/],
    ['confirmed with body', 4, Buffer.from([0]), /CONFIRMED has 1 unexpected byte/],
    ['abort reason 0', 5, Buffer.from([0, 0]), /unknown reason \(0\)/],
    ['abort reason 7', 5, Buffer.from([7, 0]), /unknown reason \(7\)/],
    ['abort empty', 5, Buffer.alloc(0), /ABORT ends early/],
    ['abort text truncated', 5, Buffer.from([1, 5, 0x61]), /ends early/],
    ['abort control char', 5, Buffer.from([1, 2, 0x61, 0x07]), /control character/],
    ['abort text too long', 5, Buffer.concat([Buffer.from([1, 201]), Buffer.alloc(201, 0x61)]), /longer than 200/],
    ['unknown type', 9, Buffer.alloc(0), /unknown message type 9/],
  ];
  for (const [name, type, bytes, want] of rows) {
    const error = body(type, bytes);
    assert.ok(error, `${name}: should be an error`);
    assert.match(error, want, name);
  }
  assert.equal(MessageType.INFO, 3);
  assert.equal(body(3, infoBody), undefined);
});

test('encoders refuse details that could not be decoded', () => {
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, user: 'a\nb' } }));
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, publicKey: Buffer.alloc(51) } }));
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, nonce: Buffer.alloc(31) } }));
  assert.throws(() => encodeMessage({ type: 'abort', reason: 'cancelled', text: 'x'.repeat(201) }));
  const key = ed25519Blob(Buffer.alloc(32, 5));
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, identity: { key, name: '' } } }), /name is empty/);
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, identity: { key, name: 'A\u202eB' } } }), /control character/);
  assert.throws(() => encodeMessage({ type: 'info', info: { ...info, identity: { key: Buffer.alloc(51), name: 'Alex' } } }), /identity/);
  assert.throws(() => encodeMessage({ type: 'proof', signature: Buffer.alloc(63) }));
});

test('safeText makes any text sendable in ABORT', () => {
  assert.equal(safeText('a\x1b[2Jb'), 'a [2Jb');
  const long = safeText('ä'.repeat(150));
  assert.equal(Buffer.byteLength(long), 200);
  assert.doesNotThrow(() => encodeMessage({ type: 'abort', reason: 'cancelled', text: safeText('é'.repeat(500)) }));
});
