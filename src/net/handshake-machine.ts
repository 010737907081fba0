// The handshake machine (pure) that runs before SSH: HELLO, COMMIT, INFO, then the people
// compare the code and each side sends CONFIRMED (or ABORT).
//
//   committer (opened TCP)                 responder
//   HELLO, COMMIT = SHA-256(own INFO)  ->
//                                      <-  HELLO
//                                      <-  INFO       (sent on COMMIT)
//   INFO (must hash to COMMIT)         ->
//   PROOF (the helper's, either role)  <->    the helper's identity key signs the transcript
//   ... both show the code, the people compare it ...
//   CONFIRMED                         <->  CONFIRMED  -> every later byte is SSH
//
// The responder reveals its INFO only after the committer is bound to its own,
// so a man in the middle cannot pick his details to steer the code: he gets
// one 2^-25 guess per attempt.
//
// The helper's INFO also carries its long-lived identity (key and name), so the commitment and
// the transcript cover them and the spoken code vouches for them too. Right after the INFOs the
// helper sends PROOF, its identity key's signature of the transcript hash: a key copied from an
// earlier connection cannot sign this one. The side receiving an identity shows the code only
// once the PROOF checks out.
//
// The machine is a pure reducer `step(state, input) -> { state, effects }`
// over plain data; the Handshake class (handshake.ts) only feeds it bytes and runs the
// effects. Like magic-wormhole's "scared" state, 'failed' swallows everything.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Frame } from './frames';
import {
  decodeMessage, encodeMessage, safeText,
  type AbortReason, type Info, type Message, type Role,
} from './messages';
import { deriveCode } from './sas';
import { proofValid, signProof } from './identity';

/** Most SSH bytes kept while waiting for the local person to confirm. */
export const MAX_EARLY_SSH_BYTES = 256 * 1024;
const TRANSCRIPT_LABEL = Buffer.from('remote-help transcript v1\0', 'latin1');

export type Phase = 'hello' | 'info' | 'verify' | 'done' | 'failed';

export type HandshakeEvent =
  | { kind: 'code'; code: string; peer: Info }
  | { kind: 'peerConfirmed' }
  | { kind: 'done'; leftover: Buffer; peer: Info }
  | { kind: 'failed'; reason: AbortReason; message: string; fromPeer: boolean };

export interface HandshakeState {
  readonly phase: Phase;
  readonly committer: boolean;
  readonly local: Info;
  readonly started: boolean;
  readonly ownHello: Buffer; // our frames, encoded once: the transcript needs their exact bytes
  readonly ownInfo: Buffer;
  readonly commit?: Buffer; // the COMMIT frame, sent (committer) or received (responder)
  readonly peerHello?: Buffer;
  readonly peerRole?: Role;
  readonly peer?: Info;
  readonly transcript?: Buffer;
  readonly code?: string;
  readonly localConfirmed: boolean;
  readonly peerConfirmed: boolean;
  readonly early?: Early; // SSH bytes after the peer's CONFIRMED, newest first
  readonly earlyBytes: number;
  /** The seed of our identity key, when our INFO carries an identity: it signs our PROOF. */
  readonly idSeed?: Buffer;
  /** The peer's INFO carried an identity whose PROOF has not arrived yet: no code until it has. */
  readonly proofPending: boolean;
}

// An immutable list that grows at the head: appending stays O(1) per chunk
// even when a peer trickles its bytes one TCP segment at a time.
interface Early {
  readonly bytes: Buffer;
  readonly before?: Early;
}

export type HandshakeInput =
  | { kind: 'start' }
  | { kind: 'frame'; frame: Frame; after: Buffer } // after: bytes still undecoded behind it
  | { kind: 'badBytes'; reason: string }
  | { kind: 'ssh'; bytes: Buffer }
  | { kind: 'confirm' }
  | { kind: 'abort'; reason: AbortReason; text: string };

export type Effect = { kind: 'send'; bytes: Buffer } | { kind: 'event'; event: HandshakeEvent };
type Step = { state: HandshakeState; effects: Effect[] };

export function initialState(committer: boolean, local: Info, idSeed?: Buffer): HandshakeState {
  if (local.identity && !idSeed) throw new RangeError('an identity needs its key to prove it');
  const ownInfo = encodeMessage({ type: 'info', info: local });
  return {
    phase: 'hello', committer, local, started: false, idSeed, proofPending: false,
    ownHello: encodeMessage({ type: 'hello', role: local.role }),
    ownInfo,
    commit: committer ? encodeMessage({ type: 'commit', hash: sha256(ownInfo) }) : undefined,
    localConfirmed: false, peerConfirmed: false, earlyBytes: 0,
  };
}

export function step(s: HandshakeState, input: HandshakeInput): Step {
  if (s.phase === 'done' || s.phase === 'failed') return { state: s, effects: [] };
  switch (input.kind) {
    case 'start':
      if (s.started) return { state: s, effects: [] };
      return { state: { ...s, started: true }, effects: s.commit ? [send(s.ownHello), send(s.commit)] : [send(s.ownHello)] };
    case 'confirm':
      if (s.phase !== 'verify' || s.localConfirmed || s.proofPending) return { state: s, effects: [] };
      return finishIfBoth({ ...s, localConfirmed: true }, [send(encodeMessage({ type: 'confirmed' }))]);
    case 'abort':
      return fail(s, input.reason, localAbortMessage(input.reason, input.text), input.text, false);
    case 'badBytes':
      return protocolError(s, input.reason);
    case 'ssh': {
      const earlyBytes = s.earlyBytes + input.bytes.length;
      if (earlyBytes > MAX_EARLY_SSH_BYTES) return tooMuchEarly(s);
      return { state: { ...s, early: { bytes: Buffer.from(input.bytes), before: s.early }, earlyBytes }, effects: [] };
    }
    case 'frame': {
      const d = decodeMessage(input.frame);
      if ('error' in d) return protocolError(s, d.error);
      return onMessage(s, d.message, input.frame.raw, input.after);
    }
  }
}

function onMessage(s: HandshakeState, m: Message, raw: Buffer, after: Buffer): Step {
  if (m.type === 'abort') return fail(s, m.reason, peerAbortMessage(m.reason, m.text), '', true);
  if (!s.started || s.peerConfirmed) return unexpected(s, m);
  switch (s.phase) {
    case 'hello': {
      if (m.type !== 'hello') return unexpected(s, m);
      if (m.role === s.local.role) {
        return fail(s, 'protocol-error',
          `Both sides chose to be the ${m.role}: one of you has to be the ${m.role === 'friend' ? 'helper' : 'friend'}.`,
          `both sides chose to be the ${m.role}`, false);
      }
      return { state: { ...s, phase: 'info', peerHello: raw, peerRole: m.role }, effects: [] };
    }
    case 'info': {
      if (!s.committer && !s.commit) {
        // Responder: now that the committer is bound, reveal our INFO.
        if (m.type !== 'commit') return unexpected(s, m);
        return { state: { ...s, commit: raw }, effects: [send(s.ownInfo)] };
      }
      if (m.type !== 'info') return unexpected(s, m);
      if (!s.committer && !timingSafeEqual(sha256(raw), s.commit!.subarray(3))) {
        return fail(s, 'protocol-error',
          "The other side's details did not match what it promised (possible tampering).",
          'INFO does not match COMMIT', false);
      }
      if (m.info.role !== s.peerRole) return protocolError(s, 'the role in INFO differs from the role in HELLO');
      if (m.info.nonce.equals(s.local.nonce)) return protocolError(s, 'INFO repeats our own nonce');
      return enterVerify(s, m.info, raw);
    }
    case 'verify': {
      if (s.proofPending) {
        if (m.type !== 'proof') return unexpected(s, m);
        if (!proofValid(s.peer!.identity!.key, s.transcript!, m.signature)) {
          return fail(s, 'protocol-error',
            `The other side says it is ${s.peer!.identity!.name}, but could not prove it: someone may be pretending to be them.`,
            'the identity proof does not match', false);
        }
        return { state: { ...s, proofPending: false }, effects: [event({ kind: 'code', code: s.code!, peer: s.peer! })] };
      }
      if (m.type !== 'confirmed') return unexpected(s, m);
      // From here on every byte is SSH: keep what was already read behind it.
      const state = { ...s, peerConfirmed: true, early: { bytes: Buffer.from(after) }, earlyBytes: after.length };
      if (after.length > MAX_EARLY_SSH_BYTES) return tooMuchEarly(s);
      return finishIfBoth(state, [event({ kind: 'peerConfirmed' })]);
    }
    default:
      return { state: s, effects: [] };
  }
}

// The peer's SSH may start talking at once, but our person may take a while
// to press the key; without a cap that wait could fill memory.
function tooMuchEarly(s: HandshakeState): Step {
  return fail(s, 'protocol-error', 'The other side sent too much data before you confirmed.',
    'more than 256 KiB of SSH data before confirmation', false);
}

// The code covers every handshake frame in one canonical order, so both sides
// hash the same bytes however their sends and receives interleaved.
function enterVerify(s: HandshakeState, peer: Info, peerInfo: Buffer): Step {
  const [committerHello, responderHello] = s.committer ? [s.ownHello, s.peerHello!] : [s.peerHello!, s.ownHello];
  const [committerInfo, responderInfo] = s.committer ? [s.ownInfo, peerInfo] : [peerInfo, s.ownInfo];
  const transcript = createHash('sha256').update(TRANSCRIPT_LABEL)
    .update(committerHello).update(responderHello).update(s.commit!)
    .update(responderInfo).update(committerInfo).digest();
  const code = deriveCode(transcript);
  const effects = s.committer ? [send(s.ownInfo)] : [];
  if (s.idSeed) effects.push(send(encodeMessage({ type: 'proof', signature: signProof(s.idSeed, transcript) })));
  const proofPending = peer.identity !== undefined;
  if (!proofPending) effects.push(event({ kind: 'code', code, peer }));
  return { state: { ...s, phase: 'verify', peer, transcript, code, proofPending }, effects };
}

function finishIfBoth(s: HandshakeState, effects: Effect[]): Step {
  if (!s.localConfirmed || !s.peerConfirmed) return { state: s, effects };
  const chunks: Buffer[] = [];
  for (let e = s.early; e; e = e.before) chunks.push(e.bytes);
  const leftover = Buffer.concat(chunks.reverse());
  return {
    state: { ...s, phase: 'done', early: undefined, earlyBytes: 0 },
    effects: [...effects, event({ kind: 'done', leftover, peer: s.peer! })],
  };
}

// The one way out: say goodbye to the peer (unless it is the one that left),
// then report. The 'failed' state ignores all later input.
function fail(s: HandshakeState, reason: AbortReason, message: string, text: string, fromPeer: boolean): Step {
  const bye = fromPeer ? [] : [send(encodeMessage({ type: 'abort', reason, text: safeText(text) }))];
  return {
    state: { ...s, phase: 'failed', early: undefined, earlyBytes: 0 },
    effects: [...bye, event({ kind: 'failed', reason, message, fromPeer })],
  };
}

function protocolError(s: HandshakeState, detail: string): Step {
  // Reasons that already speak of "the other side" (plain SSH, HTTP, wrong
  // version) are complete sentences for a person; the rest are technical.
  const message = detail.startsWith('the other side')
    ? `${detail[0].toUpperCase()}${detail.slice(1)}.`
    : `The other side sent something remote-help does not understand (${detail}).`;
  return fail(s, 'protocol-error', message, detail, false);
}

function unexpected(s: HandshakeState, m: Message): Step {
  const name = m.type.toUpperCase();
  let what: string;
  if (s.phase === 'hello' || !s.started) what = `${name} before HELLO`;
  else if (m.type === 'hello') what = 'a second HELLO';
  else if (m.type === 'commit') what = s.committer ? 'a COMMIT, but only the side that connected sends one' : 'a second COMMIT';
  else if (m.type === 'confirmed') what = s.peerConfirmed ? 'a second CONFIRMED' : s.proofPending ? 'CONFIRMED before PROOF' : 'CONFIRMED before both sides exchanged details';
  else if (m.type === 'proof') what = s.phase === 'verify' ? 'a PROOF nobody asked for' : 'PROOF before both sides exchanged details';
  else if (s.proofPending) what = `${name} before PROOF`;
  else if (s.phase === 'verify') what = `${name} after both sides exchanged details`;
  else what = 'INFO before COMMIT';
  return protocolError(s, what);
}

const PEER_ABORT: Record<AbortReason, string> = {
  'code-mismatch': 'The other side stopped: the code did not match.',
  cancelled: 'The other side cancelled.',
  timeout: 'The other side gave up waiting.',
  'protocol-error': 'The other side stopped because the connection did not work as expected.',
  busy: 'The other side is busy with another session. Try again later.',
  'not-allowed': 'The friend\'s computer takes help only from the helpers its administrator chose, and you are not one of them.',
};

// Only a protocol error's text adds something a person can use; for the others our own words say it.
function peerAbortMessage(reason: AbortReason, text: string): string {
  return text && reason === 'protocol-error' ? `${PEER_ABORT[reason]} (They said: "${text}")` : PEER_ABORT[reason];
}

const LOCAL_ABORT: Record<AbortReason, string> = {
  'code-mismatch': 'Stopped: the code did not match.',
  cancelled: 'Stopped: cancelled on this side.',
  timeout: 'Stopped: the other side took too long to answer.',
  'protocol-error': 'Stopped: the connection did not work as expected.',
  busy: 'Stopped: this side is busy with another session.',
  'not-allowed': 'Stopped: this computer takes help only from the helpers its administrator chose.',
};

function localAbortMessage(reason: AbortReason, text: string): string {
  return reason === 'protocol-error' && text ? `${LOCAL_ABORT[reason]} (${text})` : LOCAL_ABORT[reason];
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const send = (bytes: Buffer): Effect => ({ kind: 'send', bytes });
const event = (e: HandshakeEvent): Effect => ({ kind: 'event', event: e });

