// Fresh Ed25519 keys for one session. The private key lives in memory only: it is never written
// to a file, a log or an event.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';

export interface SessionKey {
  /** OpenSSH private key text, for ssh2 (host key on the friend's side, client key on the helper's). */
  privateKey: string;
  /** The SSH wire blob of the public key: what the handshake sends and the other side pins. */
  publicBlob: Buffer;
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/**
 * Encodes an Ed25519 key pair in the "openssh-key-v1" format (OpenSSH's PROTOCOL.key), unencrypted.
 * We write it ourselves because ssh2's generateKeyPairSync drops leading zero bytes of the public
 * key, which makes about one key in 256 unreadable (mscdex/ssh2 issues 1390 and 1513).
 */
export function opensshEd25519(seed: Buffer, pub: Buffer, comment = ''): { privateKey: string; publicBlob: Buffer } {
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check, check,
    sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment),
  ]);
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from([1, 2, 3, 4, 5, 6, 7].slice(0, pad))]);
  const one = Buffer.alloc(4);
  one.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), sshString('none'), sshString(''), one,
    sshString(publicBlob), sshString(secret),
  ]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return { privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`, publicBlob };
}

export function freshKey(): SessionKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw 32-byte seed and public key are the last 32 bytes of the PKCS#8 and SPKI encodings
  // (RFC 8410). Not JWK: on Node 20.20 exporting an Ed25519 key as JWK hangs now and then (seen
  // here about once in 5,000 keys).
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const key = opensshEd25519(seed, pub);
  const parsed = utils.parseKey(key.privateKey);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.getPublicSSH().equals(key.publicBlob))
    throw new Error('could not make a session key');
  return key;
}

export function freshNonce(): Buffer {
  return randomBytes(32);
}

/** Parses a pinned public key blob for signature checks; null when it is not a valid key. */
export function parsePublicBlob(blob: Buffer): ParsedKey | null {
  const parsed = utils.parseKey(`ssh-ed25519 ${blob.toString('base64')}`);
  if (parsed instanceof Error) return null;
  return Array.isArray(parsed) ? (parsed[0] ?? null) : parsed;
}
