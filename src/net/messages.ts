// The handshake's wire messages: one table of types, one union, and for each
// message an encoder and a decoder with its byte layout.
//
// Conventions: integers are big-endian; str8 = u8 length + bytes, str16 = u16
// length + bytes; text is UTF-8. Decoders never throw: bad input gives
// { error } with a plain reason. Encoders throw only on programmer error.

import { encodeFrame, type Frame } from './frames';

export const MessageType = { HELLO: 1, COMMIT: 2, INFO: 3, CONFIRMED: 4, ABORT: 5, PROOF: 6 } as const;

/** 2: INFO may carry the helper's identity, and PROOF exists. */
export const PROTOCOL_VERSION = 2;
const MAGIC = Buffer.from('RHLP', 'ascii');
export const MAX_USER_BYTES = 64;
export const MAX_HOST_BYTES = 255; // a DNS name is at most 253 characters
export const MAX_ABORT_TEXT_BYTES = 200;
/** The name a helper chose to show friends ("Alex, your nephew"). */
export const MAX_NAME_BYTES = 64;
/** An Ed25519 signature (RFC 8032 section 5.1.6): the PROOF's body. */
export const PROOF_BYTES = 64;
export const NONCE_BYTES = 32;
/** caps bit 0: the friend has a desktop (VNC) that could be shared. */
export const CAP_DESKTOP = 1;

import type { Role } from '../shared';

export type { Role };
export type AbortReason = 'code-mismatch' | 'cancelled' | 'timeout' | 'protocol-error' | 'busy' | 'not-allowed';

export interface Info {
  role: Role;
  user: string;
  host: string;
  /** SSH wire blob of an Ed25519 key: string "ssh-ed25519", string key(32). */
  publicKey: Buffer;
  nonce: Buffer;
  caps: number;
  /** The helper's long-lived identity (src/net/identity.ts): its public key blob and the name it
   * chose to show friends. Absent on the friend's side. */
  identity?: { key: Buffer; name: string };
}

export type Message =
  | { type: 'hello'; role: Role }
  | { type: 'commit'; hash: Buffer }
  | { type: 'info'; info: Info }
  | { type: 'confirmed' }
  | { type: 'proof'; signature: Buffer }
  | { type: 'abort'; reason: AbortReason; text: string };

const ROLES: readonly (Role | undefined)[] = [undefined, 'friend', 'helper'];
const REASONS: readonly (AbortReason | undefined)[] = [
  undefined, 'code-mismatch', 'cancelled', 'timeout', 'protocol-error', 'busy', 'not-allowed',
];

export function encodeMessage(m: Message): Buffer {
  switch (m.type) {
    case 'hello': {
      // HELLO body: "RHLP" | u8 version | u8 role (1 friend, 2 helper) = 6 bytes
      return encodeFrame(MessageType.HELLO, Buffer.concat([MAGIC, u8(PROTOCOL_VERSION), u8(roleCode(m.role))]));
    }
    case 'commit': {
      // COMMIT body: SHA-256 of the committer's INFO frame, raw bytes (32)
      if (m.hash.length !== 32) throw new RangeError('a commitment is 32 bytes');
      return encodeFrame(MessageType.COMMIT, m.hash);
    }
    case 'info': {
      // INFO body: u8 role | str8 user | str8 host | str16 publicKey | nonce(32) | u32 caps
      //            | u8 hasIdentity (0 or 1) | [identityKey(51) | str8 name]
      const i = m.info;
      const bad = checkInfo(i);
      if (bad) throw new RangeError(`cannot send INFO: ${bad}`);
      const caps = Buffer.alloc(4);
      caps.writeUInt32BE(i.caps >>> 0);
      const key = Buffer.alloc(2);
      key.writeUInt16BE(i.publicKey.length);
      const id = i.identity ? [u8(1), i.identity.key, str8(i.identity.name)] : [u8(0)];
      return encodeFrame(MessageType.INFO, Buffer.concat([
        u8(roleCode(i.role)), str8(i.user), str8(i.host), key, i.publicKey, i.nonce, caps, ...id,
      ]));
    }
    case 'confirmed':
      // CONFIRMED body: empty
      return encodeFrame(MessageType.CONFIRMED, Buffer.alloc(0));
    case 'proof':
      // PROOF body: the identity key's Ed25519 signature of the transcript (64), see identity.ts
      if (m.signature.length !== PROOF_BYTES) throw new RangeError(`a proof is ${PROOF_BYTES} bytes`);
      return encodeFrame(MessageType.PROOF, m.signature);
    case 'abort': {
      // ABORT body: u8 reason (1..6, see REASONS) | str8 text (<= 200 bytes)
      const bad = checkText(m.text, MAX_ABORT_TEXT_BYTES, 'the reason text');
      if (bad) throw new RangeError(`cannot send ABORT: ${bad}`);
      return encodeFrame(MessageType.ABORT, Buffer.concat([u8(REASONS.indexOf(m.reason)), str8(m.text)]));
    }
  }
}

export function decodeMessage(frame: Frame): { message: Message } | { error: string } {
  const r = new Reader(frame.body);
  switch (frame.type) {
    case MessageType.HELLO: {
      // "RHLP" | u8 version | u8 role. Magic and version are checked before
      // the length so that a future, longer HELLO still gets a clear answer.
      if (!r.take(4)?.equals(MAGIC)) return { error: 'the other side is not remote-help' };
      const version = r.u8();
      if (version === undefined) return { error: 'HELLO ends early' };
      if (version !== PROTOCOL_VERSION) {
        return { error: `the other side runs an incompatible version (protocol ${version})` };
      }
      const role = ROLES[r.u8() ?? 0];
      if (!role) return { error: 'HELLO names an unknown role' };
      return r.end('HELLO') ?? { message: { type: 'hello', role } };
    }
    case MessageType.COMMIT: {
      // 32 bytes of SHA-256
      if (frame.body.length !== 32) return { error: `COMMIT is ${frame.body.length} bytes long, expected 32` };
      return { message: { type: 'commit', hash: Buffer.from(frame.body) } };
    }
    case MessageType.INFO: {
      // u8 role | str8 user | str8 host | str16 publicKey | nonce(32) | u32 caps
      // | u8 hasIdentity | [identityKey(51) | str8 name]
      const role = ROLES[r.u8() ?? 0];
      if (!role) return { error: 'INFO names an unknown role' };
      const user = r.text(r.u8(), MAX_USER_BYTES, 'the user name');
      if (typeof user !== 'string') return user;
      const host = r.text(r.u8(), MAX_HOST_BYTES, 'the host name');
      if (typeof host !== 'string') return host;
      const publicKey = r.take(r.u16());
      if (!publicKey) return { error: 'INFO ends early' };
      if (!isEd25519Blob(publicKey)) return { error: 'INFO carries a public key that is not an Ed25519 SSH key' };
      const nonce = r.take(NONCE_BYTES);
      const caps = r.u32();
      const hasIdentity = r.u8();
      if (!nonce || caps === undefined || hasIdentity === undefined) return { error: 'INFO ends early' };
      const info: Info = { role, user, host, publicKey: Buffer.from(publicKey), nonce: Buffer.from(nonce), caps };
      if (hasIdentity > 1) return { error: `INFO says ${hasIdentity} for whether it has an identity (0 or 1)` };
      if (hasIdentity === 1) {
        const key = r.take(ED25519_BLOB_BYTES);
        if (!key) return { error: 'INFO ends early (in the identity)' };
        if (!isEd25519Blob(key)) return { error: 'INFO carries an identity that is not an Ed25519 SSH key' };
        const name = r.text(r.u8(), MAX_NAME_BYTES, 'the name');
        if (typeof name !== 'string') return name;
        if (name.trim() === '') return { error: 'INFO carries an identity without a name' };
        info.identity = { key: Buffer.from(key), name };
      }
      return r.end('INFO') ?? { message: { type: 'info', info } };
    }
    case MessageType.CONFIRMED:
      return r.end('CONFIRMED') ?? { message: { type: 'confirmed' } };
    case MessageType.PROOF:
      // signature(64)
      if (frame.body.length !== PROOF_BYTES) return { error: `PROOF is ${frame.body.length} bytes long, expected ${PROOF_BYTES}` };
      return { message: { type: 'proof', signature: Buffer.from(frame.body) } };
    case MessageType.ABORT: {
      // u8 reason | str8 text
      const code = r.u8();
      const reason = REASONS[code ?? 0];
      if (!reason) return { error: code === undefined ? 'ABORT ends early' : `ABORT gives an unknown reason (${code})` };
      const text = r.text(r.u8(), MAX_ABORT_TEXT_BYTES, 'the reason text');
      if (typeof text !== 'string') return text;
      return r.end('ABORT') ?? { message: { type: 'abort', reason, text } };
    }
    default:
      return { error: `unknown message type ${frame.type}` };
  }
}

/** Why `info` cannot be sent, or null when it is fine. */
export function checkInfo(i: Info): string | null {
  if (!isEd25519Blob(i.publicKey)) return 'the public key is not an Ed25519 SSH key blob';
  if (i.nonce.length !== NONCE_BYTES) return `the nonce must be ${NONCE_BYTES} bytes`;
  if (!Number.isInteger(i.caps) || i.caps < 0 || i.caps > 0xffffffff) return 'caps must fit in 32 bits';
  if (i.identity && !isEd25519Blob(i.identity.key)) return 'the identity is not an Ed25519 SSH key blob';
  return checkText(i.user, MAX_USER_BYTES, 'the user name') ?? checkText(i.host, MAX_HOST_BYTES, 'the host name') ??
    (i.identity ? checkName(i.identity.name) : null);
}

/** Why a helper's name cannot be shown to friends, or null when it can. */
export function checkName(name: string): string | null {
  if (name.trim() === '') return 'the name is empty';
  return checkText(name, MAX_NAME_BYTES, 'the name');
}

// SSH wire format of an Ed25519 public key (RFC 8709 section 4):
// u32 11 | "ssh-ed25519" | u32 32 | key(32)  = 51 bytes.
const ED25519_NAME = Buffer.from('ssh-ed25519', 'ascii');
export const ED25519_BLOB_BYTES = 51;

export function isEd25519Blob(b: Buffer): boolean {
  return b.length === ED25519_BLOB_BYTES &&
    b.readUInt32BE(0) === ED25519_NAME.length &&
    b.subarray(4, 15).equals(ED25519_NAME) &&
    b.readUInt32BE(15) === 32;
}

/** Wrap a raw 32-byte Ed25519 public key in the SSH wire blob. */
export function ed25519Blob(raw: Buffer): Buffer {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  const b = Buffer.alloc(ED25519_BLOB_BYTES);
  b.writeUInt32BE(ED25519_NAME.length, 0);
  ED25519_NAME.copy(b, 4);
  b.writeUInt32BE(32, 15);
  raw.copy(b, 19);
  return b;
}

// Control characters (C0, DEL, C1) could rewrite the other person's screen;
// bidi overrides and line separators could make a name read as something it
// is not. The names are shown to people deciding whether to trust the peer.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

export function checkText(s: string, maxBytes: number, what: string): string | null {
  if (Buffer.byteLength(s, 'utf8') > maxBytes) return `${what} is longer than ${maxBytes} bytes`;
  if (UNSAFE.test(s)) return `${what} contains a control character`;
  return null;
}

/** Make any text safe to send in ABORT: unsafe characters dropped, cut to fit. */
export function safeText(s: string, maxBytes = MAX_ABORT_TEXT_BYTES): string {
  // Every character is at least one byte, so maxBytes characters is an upper bound.
  const chars = Array.from(s.replace(new RegExp(UNSAFE.source, 'g'), ' ')).slice(0, maxBytes);
  while (Buffer.byteLength(chars.join(''), 'utf8') > maxBytes) chars.pop();
  return chars.join('');
}

function roleCode(role: Role): number {
  return ROLES.indexOf(role);
}

function u8(n: number): Buffer {
  return Buffer.from([n]);
}

function str8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u8(b.length), b]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A cursor over a body; reads past the end give undefined instead of throwing. */
class Reader {
  private off = 0;
  constructor(private readonly b: Buffer) {}

  take(n: number | undefined): Buffer | undefined {
    if (n === undefined || this.off + n > this.b.length) return undefined;
    this.off += n;
    return this.b.subarray(this.off - n, this.off);
  }
  u8(): number | undefined {
    return this.take(1)?.readUInt8(0);
  }
  u16(): number | undefined {
    return this.take(2)?.readUInt16BE(0);
  }
  u32(): number | undefined {
    return this.take(4)?.readUInt32BE(0);
  }
  /** A length-prefixed UTF-8 string, or an error. */
  text(len: number | undefined, maxBytes: number, what: string): string | { error: string } {
    const bytes = this.take(len);
    if (!bytes) return { error: `the message ends early (in ${what})` };
    let s: string;
    try {
      s = utf8.decode(bytes);
    } catch {
      return { error: `${what} is not valid UTF-8` };
    }
    const bad = checkText(s, maxBytes, what);
    return bad ? { error: bad } : s;
  }
  /** An error when bytes are left over, else undefined. */
  end(name: string): { error: string } | undefined {
    const extra = this.b.length - this.off;
    return extra === 0 ? undefined : { error: `${name} has ${extra} unexpected byte${extra === 1 ? '' : 's'} at the end` };
  }
}
