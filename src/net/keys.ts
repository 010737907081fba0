// Fresh Ed25519 keys for one session. The private key lives in memory only: it is never written
// to a file, a log or an event.
import { utils, type ParsedKey } from 'ssh2';
import { randomBytes } from 'node:crypto';

export interface SessionKey {
  /** OpenSSH private key text, for ssh2 (host key on the friend's side, client key on the helper's). */
  privateKey: string;
  /** The SSH wire blob of the public key: what the handshake sends and the other side pins. */
  publicBlob: Buffer;
}

export function freshKey(): SessionKey {
  const pair = utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(pair.private);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return { privateKey: pair.private, publicBlob: key.getPublicSSH() };
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
