// The helper's identity on the wire: a long-lived Ed25519 key (unlike the session keys, which are
// fresh every time) whose public half and the helper's chosen name travel in the helper's INFO,
// and whose private half signs the handshake's transcript hash (PROOF), so a public key copied
// from an earlier connection is worth nothing. Pure: no files here (src/app/identity.ts keeps it).
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { ed25519Blob, ED25519_BLOB_BYTES, isEd25519Blob, PROOF_BYTES } from './messages';

// Domain separation: this key signs nothing but handshake transcripts.
const PROOF_LABEL = Buffer.from('remote-help identity proof v1\0', 'latin1');

// DER prefixes that turn a raw Ed25519 seed or public key into PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The helper's identity in memory: its 32-byte seed and the SSH blob of its public key. */
export interface IdentityKey {
  seed: Buffer;
  publicBlob: Buffer;
}

/** The identity key made from its 32-byte seed. */
export function identityFromSeed(seed: Buffer): IdentityKey {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
  return { seed: Buffer.from(seed), publicBlob: ed25519Blob(Buffer.from(pub)) };
}

/** How a person or a log names an identity: OpenSSH's fingerprint ("SHA256:" and the unpadded
 * base64 of the SHA-256 of the key blob), the same `ssh-keygen -l` prints for it. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The PROOF signature: the identity key over the labelled transcript hash. */
export function signProof(seed: Buffer, transcript: Buffer): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return sign(null, Buffer.concat([PROOF_LABEL, transcript]), key);
}

/** Whether `signature` is the identity `blob`'s PROOF of this transcript. Never throws. */
export function proofValid(blob: Buffer, transcript: Buffer, signature: Buffer): boolean {
  if (!isEd25519Blob(blob) || signature.length !== PROOF_BYTES) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, blob.subarray(ED25519_BLOB_BYTES - 32)]), format: 'der', type: 'spki' });
    return verify(null, Buffer.concat([PROOF_LABEL, transcript]), key, signature);
  } catch {
    return false;
  }
}
