// A seeded fuzzer for the pre-SSH handshake: the frame decoder, the message decoders and the
// handshake machine, in-process and pure (no sockets, no timers). Used by test/fuzz.test.ts (a
// slice in `npm test`) and scripts/fuzz.ts (`npm run fuzz`, a million cases and more).
//
// Each case is derived from (seed, index) alone, so a failure is replayed with
// `npm run fuzz -- --seed S --from I --cases 1`.
//
// Invariants checked on every case:
//   - nothing throws (decoder, message decoders, machine, the Handshake runner);
//   - bounded work: the number of machine steps is bounded by the input given, and each case
//     finishes within MAX_CASE_MS of wall time;
//   - every failure is one 'failed' event with a non-empty plain reason (no control characters,
//     bounded length), and the ABORT frame sent with it decodes;
//   - a failed (or done) machine emits nothing more, whatever it is fed afterwards;
//   - the frame decoder never holds more than one partial frame between pushes;
//   - a victim that reaches the code has hashed exactly the frames it consumed: when any of them
//     differs from the honest peer's, its transcript differs from the honest one.
import { createHash } from 'node:crypto';
import { encodeFrame, FrameDecoder, MAX_FRAME_LEN, type Frame } from '../src/net/frames';
import { decodeMessage, ed25519Blob, MessageType, type AbortReason, type Info, type Role } from '../src/net/messages';
import {
  Handshake, initialState, step, type Effect, type HandshakeEvent, type HandshakeInput, type HandshakeState,
} from '../src/net/handshake';

export const MAX_CASE_MS = 1000;
const MAX_REASON_CHARS = 600;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// ---------------------------------------------------------------- PRNG (mulberry32 per case)

export class Rng {
  private s: number;
  constructor(seed: number, index: number) {
    // Mix seed and index so neighbouring cases are unrelated.
    this.s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) | 0;
    for (let i = 0; i < 3; i++) this.u32();
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

// ---------------------------------------------------------------- inputs

function info(r: Rng, role: Role): Info {
  return {
    role,
    user: r.pick(['anna', 'root', '', 'x'.repeat(64), 'Zoë', '用户']),
    host: r.pick(['annas-laptop', '', 'h'.repeat(255), 'recovery']),
    publicKey: ed25519Blob(r.bytes(32)),
    nonce: r.bytes(32),
    caps: r.pick([0, 1, 0xffffffff, r.u32()]),
  };
}

/** What an honest peer sends to `victim`, frame by frame, in order, and the honest transcript. */
interface Honest {
  victimCommitter: boolean;
  victimInfo: Info;
  peerInfo: Info;
  peerFrames: Buffer[]; // HELLO, [COMMIT], INFO, CONFIRMED
  transcript: Buffer;
}

function honest(r: Rng): Honest {
  const victimCommitter = r.chance(0.5);
  const victimRole: Role = r.chance(0.5) ? 'friend' : 'helper';
  const peerRole: Role = victimRole === 'friend' ? 'helper' : 'friend';
  const victimInfo = info(r, victimRole);
  const peerInfo = info(r, peerRole);
  // Run two pure machines against each other to get the peer's exact frames.
  let v = initialState(victimCommitter, victimInfo);
  let p = initialState(!victimCommitter, peerInfo);
  const peerFrames: Buffer[] = [];
  const toPeer: Buffer[] = [];
  const toVictim: Buffer[] = [];
  const apply = (who: 'v' | 'p', input: HandshakeInput) => {
    const res = step(who === 'v' ? v : p, input);
    if (who === 'v') v = res.state;
    else p = res.state;
    for (const e of res.effects) if (e.kind === 'send') (who === 'v' ? toPeer : toVictim).push(e.bytes);
  };
  apply('v', { kind: 'start' });
  apply('p', { kind: 'start' });
  for (let guard = 0; guard < 20 && (toPeer.length || toVictim.length); guard++) {
    const a = toPeer.shift();
    if (a) apply('p', { kind: 'frame', frame: frameOf(a), after: Buffer.alloc(0) });
    const b = toVictim.shift();
    if (b) {
      peerFrames.push(b);
      apply('v', { kind: 'frame', frame: frameOf(b), after: Buffer.alloc(0) });
    }
  }
  apply('p', { kind: 'confirm' });
  peerFrames.push(...toVictim.splice(0));
  if (v.phase !== 'verify' || p.phase !== 'verify' || !v.transcript || !p.transcript?.equals(v.transcript))
    throw new Error('the honest run did not reach the code with equal transcripts');
  return { victimCommitter, victimInfo, peerInfo, peerFrames, transcript: v.transcript };
}

/** Whether the machine has stopped taking frames (a step may change that behind the narrowing). */
function over(s: HandshakeState): boolean {
  return s.phase === 'done' || s.phase === 'failed';
}

function frameOf(raw: Buffer): Frame {
  return { type: raw[2], body: raw.subarray(3), raw };
}

const TYPES = [0, MessageType.HELLO, MessageType.COMMIT, MessageType.INFO, MessageType.CONFIRMED, MessageType.ABORT, 6, 0x7f, 0xff];

/** A frame of any type with a body that is random, empty, huge, or a near-valid message. */
function randomFrame(r: Rng, h: Honest): Buffer {
  const type = r.chance(0.8) ? r.pick(TYPES) : r.int(256);
  const k = r.int(8);
  let body: Buffer;
  if (k === 0) body = Buffer.alloc(0);
  else if (k === 1) body = r.bytes(MAX_FRAME_LEN - 1); // the largest frame allowed
  else if (k === 2) body = r.bytes(r.int(64));
  else if (k === 3) body = hugeFieldInfo(r);
  else if (k === 4) body = abortBody(r);
  else if (k === 5) body = Buffer.concat([Buffer.from('RHLP'), Buffer.from([r.int(3), r.int(4)]), r.chance(0.3) ? r.bytes(1 + r.int(3)) : Buffer.alloc(0)]);
  else body = Buffer.from(r.pick(h.peerFrames).subarray(3));
  return encodeFrame(type & 0xff, body.subarray(0, MAX_FRAME_LEN - 1));
}

/** An INFO body whose length fields claim too much, too little, or the maximum. */
function hugeFieldInfo(r: Rng): Buffer {
  const user = r.pick([0, 64, 65, 255]);
  const host = r.pick([0, 255]);
  const keyLen = r.pick([0, 51, 52, 0xffff]);
  const parts = [
    Buffer.from([r.int(4)]),
    Buffer.from([user]), Buffer.alloc(r.chance(0.7) ? user : r.int(user + 1), r.chance(0.5) ? 0x41 : r.int(256)),
    Buffer.from([host]), Buffer.alloc(host, 0x62),
    Buffer.from([keyLen >> 8, keyLen & 0xff]),
    keyLen === 51 ? ed25519Blob(r.bytes(32)) : r.bytes(Math.min(keyLen, 600)),
    r.bytes(r.pick([0, 31, 32, 33])),
    r.bytes(r.pick([0, 3, 4, 5])),
  ];
  return Buffer.concat(parts);
}

function abortBody(r: Rng): Buffer {
  const len = r.pick([0, 10, 200, 201, 255]);
  const text = r.chance(0.5) ? Buffer.alloc(len, 0x41) : r.bytes(len);
  return Buffer.concat([Buffer.from([r.int(8), len]), text.subarray(0, r.chance(0.8) ? len : r.int(len + 1))]);
}

/** One mutation of a frame's bytes. */
function mutateFrame(r: Rng, f: Buffer): Buffer {
  const b = Buffer.from(f);
  if (b.length < 3) return Buffer.concat([b, r.bytes(1 + r.int(4))]); // already cut short
  switch (r.int(6)) {
    case 0: { // bit flips
      const n = 1 + r.int(3);
      for (let i = 0; i < n; i++) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    }
    case 1: // truncation (the length field still says the old size)
      return b.subarray(0, r.int(b.length));
    case 2: { // a wrong length field
      const len = r.pick([0, 1, b.length - 3, b.length - 1, b.length + 1, MAX_FRAME_LEN, MAX_FRAME_LEN + 1, 0xffff, r.int(0x10000)]);
      b.writeUInt16BE(Math.max(0, Math.min(0xffff, len)), 0);
      return b;
    }
    case 3: // the type byte
      b[2] = r.int(256);
      return b;
    case 4: // extra bytes in the body, length fixed up
      return reframe(b, Buffer.concat([b.subarray(3), r.bytes(1 + r.int(8))]));
    default: // body cut short, length fixed up
      return reframe(b, b.subarray(3, 3 + r.int(Math.max(1, b.length - 3))));
  }
}

function reframe(f: Buffer, body: Buffer): Buffer {
  return encodeFrame(f[2], body.subarray(0, MAX_FRAME_LEN - 1));
}

/** A hostile variant of the honest peer's stream: list of frames (each possibly broken). */
function hostileStream(r: Rng, h: Honest, earlier: Honest | null): Buffer[] {
  let frames: Buffer[] = h.peerFrames.map((f) => Buffer.from(f));
  const ops = 1 + r.int(3);
  for (let i = 0; i < ops; i++) {
    const at = r.int(frames.length + 1);
    switch (r.int(9)) {
      case 0: if (frames.length) frames[Math.min(at, frames.length - 1)] = mutateFrame(r, frames[Math.min(at, frames.length - 1)]); break;
      case 1: if (frames.length) frames.splice(Math.min(at, frames.length - 1), 1); break; // dropped
      case 2: if (frames.length) frames.splice(at, 0, Buffer.from(frames[r.int(frames.length)])); break; // duplicated
      case 3: if (frames.length > 1) { // reordered (swap two)
        const a = r.int(frames.length); const b = r.int(frames.length);
        [frames[a], frames[b]] = [frames[b], frames[a]];
      } break;
      case 4: frames.splice(at, 0, randomFrame(r, h)); break; // inserted
      case 5: if (earlier) { // replay from an earlier session: one frame, or the whole stream
        if (r.chance(0.5)) frames.splice(at, 0, Buffer.from(r.pick(earlier.peerFrames)));
        else frames = earlier.peerFrames.map((f) => Buffer.from(f));
      } break;
      case 6: frames.splice(at, 0, r.bytes(r.int(16))); break; // raw garbage between frames
      case 7: frames.push(r.bytes(r.int(4096))); break; // trailing bytes (SSH after CONFIRMED, or garbage)
      default: if (frames.length) frames[Math.min(at, frames.length - 1)] = mutateFrame(r, frames[Math.min(at, frames.length - 1)]);
    }
  }
  return frames;
}

/** Splits a byte string into random chunks (single bytes, small, or whole). */
function chunks(r: Rng, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const style = r.int(4);
  for (let i = 0; i < b.length;) {
    const n = style === 0 ? 1 : style === 1 ? 1 + r.int(7) : style === 2 ? 1 + r.int(600) : b.length;
    out.push(b.subarray(i, i + n));
    i += n;
  }
  if (r.chance(0.1)) out.splice(r.int(out.length + 1), 0, Buffer.alloc(0));
  return out;
}

// ---------------------------------------------------------------- checks

export class FuzzFailure extends Error {}

function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new FuzzFailure(what);
}

function checkReason(s: unknown, what: string): void {
  check(typeof s === 'string' && s.trim().length > 0, `${what}: empty reason`);
  check(!CONTROL.test(s as string), `${what}: reason has control characters: ${JSON.stringify(s)}`);
  check((s as string).length <= MAX_REASON_CHARS, `${what}: reason is ${(s as string).length} characters long`);
}

/** Tracks a machine's outputs and checks the event invariants as they come. */
let lastOutcome = 'none';

class Watch {
  constructor() {
    lastOutcome = 'no-event';
  }
  events: HandshakeEvent[] = [];
  sends: Buffer[] = [];
  ended: 'failed' | 'done' | null = null;
  effect(e: Effect): void {
    check(this.ended === null, `an effect after the machine was ${this.ended}: ${e.kind === 'event' ? e.event.kind : 'send'}`);
    if (e.kind === 'send') {
      this.sends.push(e.bytes);
      return;
    }
    this.events.push(e.event);
    if (e.event.kind === 'failed') {
      checkReason(e.event.message, 'failed event');
      // The goodbye we sent just before (unless the peer left first) must be a valid ABORT.
      if (!e.event.fromPeer) {
        const last = this.sends[this.sends.length - 1];
        check(last && last[2] === MessageType.ABORT, 'a local failure sends ABORT first');
        const d = new FrameDecoder();
        d.push(last);
        const fr = d.next();
        check(fr && 'frame' in fr, 'our ABORT is a valid frame');
        const m = decodeMessage((fr as { frame: Frame }).frame);
        check('message' in m && m.message.type === 'abort', `our ABORT decodes: ${JSON.stringify(m)}`);
      }
      this.ended = 'failed';
      lastOutcome = 'failed';
    } else if (e.event.kind === 'done') {
      this.ended = 'done';
      lastOutcome = 'done';
    } else if (e.event.kind === 'code') {
      lastOutcome = 'code';
      check(this.events.filter((x) => x.kind === 'code').length === 1, 'the code is shown once');
    }
  }
}

// ---------------------------------------------------------------- case kinds

/** Random bytes in random chunks through the decoder and the message decoders. */
function decoderCase(r: Rng, h: Honest): void {
  const style = r.int(3);
  const bytes = style === 0 ? r.bytes(r.int(6000))
    : style === 1 ? Buffer.concat(hostileStream(r, h, null))
    : Buffer.concat(Array.from({ length: 1 + r.int(6) }, () => randomFrame(r, h)));
  const d = new FrameDecoder();
  let consumed = 0;
  let failed = false;
  for (const c of chunks(r, bytes)) {
    d.push(c);
    for (let guard = 0; ; guard++) {
      check(guard <= c.length + 2, 'the decoder keeps returning frames without consuming bytes');
      const x = d.next();
      if (!x) break;
      if ('error' in x) {
        checkReason(x.error, 'decoder error');
        const again = d.next();
        check(again && 'error' in again && again.error === x.error, 'a decoder error is sticky');
        failed = true;
        break;
      }
      check(x.frame.raw.length >= 3 && x.frame.raw.length <= MAX_FRAME_LEN + 2, 'frame size within bounds');
      consumed += x.frame.raw.length;
      const m = decodeMessage(x.frame);
      if ('error' in m) checkReason(m.error, 'message error');
    }
    if (failed) break;
    check(d.rest().length <= MAX_FRAME_LEN + 1, `the decoder holds ${d.rest().length} bytes after pulling every frame`);
  }
  if (!failed) check(consumed + d.rest().length === bytes.length, 'every byte is either a frame or still pending');
}

const LOCALS: HandshakeInput[] = [
  { kind: 'start' }, { kind: 'confirm' }, { kind: 'confirm' },
  { kind: 'abort', reason: 'cancelled', text: 'the other person stopped' },
  { kind: 'abort', reason: 'code-mismatch', text: '' },
  { kind: 'abort', reason: 'timeout', text: 'x'.repeat(300) + '\u0007\u001b[2J' },
  { kind: 'badBytes', reason: 'reset' },
  { kind: 'ssh', bytes: Buffer.alloc(100 * 1024) },
];

/**
 * The pure machine driven directly: the hostile stream decoded frame by frame with local inputs
 * (start, confirm, abort, ssh bytes) at random points. Counts steps; checks the transcript.
 */
function machineCase(r: Rng, h: Honest, earlier: Honest | null): void {
  const frames = r.chance(0.1) ? h.peerFrames.map((f) => Buffer.from(f)) : hostileStream(r, h, earlier);
  const bytes = Buffer.concat(frames);
  let s: HandshakeState = initialState(h.victimCommitter, h.victimInfo);
  const w = new Watch();
  let steps = 0;
  const feed = (input: HandshakeInput) => {
    steps++;
    const res = step(s, input);
    s = res.state;
    for (const e of res.effects) w.effect(e);
  };
  const startLate = r.chance(0.05);
  if (!startLate) feed({ kind: 'start' });
  const decoder = new FrameDecoder();
  const consumed: Buffer[] = [];
  const parts = chunks(r, bytes);
  const locals = r.int(3);
  let budget = 0;
  for (const c of parts) {
    budget += 1 + c.length;
    if (r.chance(locals / Math.max(1, parts.length))) feed(r.pick(LOCALS));
    if (over(s)) { feed({ kind: 'ssh', bytes: c }); continue; }
    if (s.peerConfirmed) { feed({ kind: 'ssh', bytes: c }); continue; }
    decoder.push(c);
    for (;;) {
      check(steps <= budget + 20, `more than ${budget + 20} steps for ${bytes.length} bytes`);
      if (s.peerConfirmed || over(s)) break;
      const x = decoder.next();
      if (!x) break;
      if ('error' in x) { feed({ kind: 'badBytes', reason: x.error }); break; }
      if (!s.transcript) consumed.push(x.frame.raw);
      feed({ kind: 'frame', frame: x.frame, after: decoder.rest() });
    }
  }
  if (startLate) feed({ kind: 'start' });
  if (r.chance(0.5)) feed({ kind: 'confirm' });
  // The transcript covers exactly what was consumed: an altered frame gives another transcript.
  if (s.transcript) {
    const sameAsHonest = consumed.length === h.peerFrames.length - 1 &&
      consumed.every((f, i) => f.equals(h.peerFrames[i]));
    if (sameAsHonest) check(s.transcript.equals(h.transcript), 'the honest frames give the honest transcript');
    else check(!s.transcript.equals(h.transcript), 'an altered handshake gives another transcript');
  }
  // Whatever comes after the end is ignored.
  if (w.ended) {
    const before = steps;
    for (const input of LOCALS) feed(input);
    feed({ kind: 'frame', frame: frameOf(h.peerFrames[0]), after: Buffer.alloc(0) });
    check(steps === before + LOCALS.length + 1, 'steps counted');
  }
  if (frames === h.peerFrames || (frames.length === h.peerFrames.length && frames.every((f, i) => f.equals(h.peerFrames[i])))) {
    if (!startLate && !w.events.some((e) => e.kind === 'failed')) check(w.events.some((e) => e.kind === 'code'), 'an honest stream reaches the code');
  }
}

/** The real Handshake runner (handshake.ts) fed a hostile stream in random chunks. */
function runnerCase(r: Rng, h: Honest, earlier: Honest | null): void {
  const w = new Watch();
  const hs = new Handshake({
    committer: h.victimCommitter,
    local: h.victimInfo,
    send: (bytes) => w.effect({ kind: 'send', bytes }),
    onEvent: (event) => w.effect({ kind: 'event', event }),
  });
  hs.start();
  const frames = hostileStream(r, h, earlier);
  let confirmed = false;
  for (const c of chunks(r, Buffer.concat(frames))) {
    if (w.ended) {
      // The runner must swallow everything now: a receive after the end emits nothing.
      hs.receive(c);
      continue;
    }
    hs.receive(c);
    if (!confirmed && hs.phase === 'verify' && r.chance(0.3)) { confirmed = true; hs.confirm(); }
    if (r.chance(0.02)) hs.abort(r.pick<AbortReason>(['cancelled', 'timeout', 'busy']), 'stop');
  }
  hs.confirm();
  hs.abort('cancelled', 'bye');
  hs.receive(Buffer.from(h.peerFrames[0]));
}

/** Every message type in every phase, for both roles: deterministic, enumerated by index. */
export const SYSTEMATIC_CASES = 2 * 6 * TYPES.length * 3;

function systematicCase(index: number, r: Rng, h0: Honest): void {
  let i = index;
  const variant = i % 3; i = Math.floor(i / 3);
  const type = TYPES[i % TYPES.length]; i = Math.floor(i / TYPES.length);
  const phaseAt = i % 6; i = Math.floor(i / 6);
  const committer = i % 2 === 0;
  const h = committer === h0.victimCommitter ? h0 : honestFor(r, committer);
  let s: HandshakeState = initialState(h.victimCommitter, h.victimInfo);
  const w = new Watch();
  const feed = (input: HandshakeInput) => {
    const res = step(s, input);
    s = res.state;
    for (const e of res.effects) w.effect(e);
  };
  // Phase positions: 0 not started, 1 hello, 2 info (before the peer's second frame), 3 verify,
  // 4 verify with local confirm, 5 after the peer's CONFIRMED.
  if (phaseAt >= 1) feed({ kind: 'start' });
  const honestFrames = h.peerFrames;
  const toFeed = phaseAt <= 1 ? 0 : phaseAt === 2 ? 1 : honestFrames.length - 1;
  for (let k = 0; k < toFeed; k++) feed({ kind: 'frame', frame: frameOf(honestFrames[k]), after: Buffer.alloc(0) });
  if (phaseAt === 4) feed({ kind: 'confirm' });
  if (phaseAt === 5) feed({ kind: 'frame', frame: frameOf(honestFrames[honestFrames.length - 1]), after: Buffer.alloc(0) });
  check(!w.ended, `the honest setup failed in phase ${s.phase}`);
  const body = variant === 0 ? Buffer.alloc(0) : variant === 1 ? r.bytes(MAX_FRAME_LEN - 1)
    : Buffer.from((honestFrames.find((f) => f[2] === type) ?? encodeFrame(type, r.bytes(6))).subarray(3));
  const raw = encodeFrame(type, body);
  feed({ kind: 'frame', frame: frameOf(raw), after: Buffer.alloc(0) });
  feed({ kind: 'frame', frame: frameOf(raw), after: Buffer.alloc(0) });
}

function honestFor(r: Rng, committer: boolean): Honest {
  for (let k = 0; k < 8; k++) {
    const h = honest(r);
    if (h.victimCommitter === committer) return h;
  }
  const h = honest(r);
  return h;
}

// ---------------------------------------------------------------- driver

export interface FuzzReport {
  seed: number;
  from: number;
  cases: number;
  failures: { index: number; error: string }[];
  maxCaseMs: number;
  byKind: Record<string, number>;
  /** How the machine cases ended: failed (with a reason), code shown, done, or still waiting. */
  outcomes: Record<string, number>;
}

const KINDS = ['decoder', 'machine', 'machine', 'runner'] as const;

/** Runs cases [from, from + cases) of `seed`; stops collecting after 10 failures. */
export function fuzz(seed: number, from: number, cases: number): FuzzReport {
  const rep: FuzzReport = { seed, from, cases: 0, failures: [], maxCaseMs: 0, byKind: {}, outcomes: {} };
  let earlier: Honest | null = null;
  for (let index = from; index < from + cases && rep.failures.length < 10; index++) {
    const t0 = performance.now();
    const r = new Rng(seed, index);
    let kind = 'systematic';
    lastOutcome = 'none';
    try {
      const h = honest(r);
      if (index < SYSTEMATIC_CASES) systematicCase(index, r, h);
      else {
        kind = KINDS[r.int(KINDS.length)];
        if (kind === 'decoder') decoderCase(r, h);
        else if (kind === 'machine') machineCase(r, h, earlier);
        else runnerCase(r, h, earlier);
      }
      earlier = r.chance(0.5) || !earlier ? h : earlier;
    } catch (err) {
      const e = err as Error;
      rep.failures.push({ index, error: `${kind}: ${e instanceof FuzzFailure ? '' : 'THREW '}${e.stack ?? e.message}` });
    }
    const ms = performance.now() - t0;
    if (ms > rep.maxCaseMs) rep.maxCaseMs = ms;
    if (ms > MAX_CASE_MS) rep.failures.push({ index, error: `${kind}: took ${ms.toFixed(0)} ms (bound ${MAX_CASE_MS})` });
    rep.byKind[kind] = (rep.byKind[kind] ?? 0) + 1;
    if (lastOutcome !== 'none') rep.outcomes[lastOutcome] = (rep.outcomes[lastOutcome] ?? 0) + 1;
    rep.cases++;
  }
  return rep;
}

/** How a failure is replayed. */
export function replayHint(seed: number, index: number): string {
  return `replay: npm run fuzz -- --seed ${seed} --from ${index} --cases 1`;
}

export const _sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
