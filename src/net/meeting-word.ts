// The meeting point's second form (meeting.ts): where the helper cannot let the server listen on a
// public port, the friend logs in to the server with a key that exists for one session and may do
// one thing there: open a connection to the loopback port the helper's program listens on. Both
// programs make that key, and the port, from a one-time word the helper reads out: eight symbols
// of the code's alphabet (40 bits). Pure, no I/O.
//
// The word is not what protects the session (the spoken code does, end to end): it only keeps
// strangers from using the helper's account on the server for forwarding, and the key line it
// makes expires by itself (OpenSSH's expiry-time), is removed at the end, and allows nothing else:
// no shell, no command, no listening (`restrict`, a forced /bin/false, permitlisten on port 1).
import { createPrivateKey, createPublicKey, randomBytes, scryptSync } from 'node:crypto';
import { HelpError } from '../errors';
import { opensshEd25519 } from './keys';
import { CROCKFORD } from './sas';
import { parseAddress, type Address } from './address';

export const WORD_LENGTH = 8;
/** What the key line's comment starts with; then the expiry (Unix seconds) and a session tag. */
export const LINE_TAG = 'remote-help-meeting:';
/** Ports the word picks from on the server's loopback. */
const PORT_BASE = 20000;
const PORT_SPAN = 40000;
const SALT = Buffer.from('remote-help meeting point v1\0', 'latin1');
// RFC 8410: a PKCS#8 Ed25519 private key is this prefix and the 32-byte seed.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export function freshWord(): string {
  const bits = randomBytes(5);
  let n = BigInt(`0x${bits.toString('hex')}`);
  let word = '';
  for (let i = 0; i < WORD_LENGTH; i++, n >>= 5n) word = CROCKFORD[Number(n & 31n)] + word;
  return word;
}

/** "ABCD-EFGH": how the word is shown and read out. */
export function formatWord(word: string): string {
  return `${word.slice(0, 4)}-${word.slice(4)}`;
}

/** The word as typed (any case, spaces or dashes, I/L for 1 and O for 0), or null if it is not one. */
export function normalizeWord(text: string): string | null {
  const w = text.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (w.length !== WORD_LENGTH || [...w].some((c) => !CROCKFORD.includes(c))) return null;
  return w;
}

export interface WordSecrets {
  /** The loopback port on the server the helper's program listens on. */
  port: number;
  /** OpenSSH private key text for ssh2 (the friend's login). */
  privateKey: string;
  /** "ssh-ed25519 AAAA...": the public half, for the key line on the server. */
  publicKey: string;
}

/** The key and the port a word stands for: the same on both sides (scrypt, so that guessing
 * words offline costs something too). */
export function wordSecrets(word: string): WordSecrets {
  const out = scryptSync(word, SALT, 34, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const seed = out.subarray(0, 32);
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32);
  const key = opensshEd25519(Buffer.from(seed), Buffer.from(pub));
  return { port: PORT_BASE + (out.readUInt16BE(32) % PORT_SPAN), privateKey: key.privateKey, publicKey: `ssh-ed25519 ${key.publicBlob.toString('base64')}` };
}

/** The authorized_keys line for one session: forwarding to the one port, until `expires`. */
export function keyLine(s: WordSecrets, expires: Date, tag: string): string {
  const at = expires.toISOString().replace(/[-:T]/g, '').slice(0, 12); // YYYYMMDDHHMM, UTC
  const options = ['restrict', 'port-forwarding', `permitopen="127.0.0.1:${s.port}"`, 'permitlisten="127.0.0.1:1"',
    'command="/bin/false"', `expiry-time="${at}Z"`];
  return `${options.join(',')} ${s.publicKey} ${LINE_TAG}${Math.floor(expires.getTime() / 1000)}:${tag}`;
}

/** Where the friend meets the helper: USER@HOST[:PORT] (the SSH server's port, 22 unless given). */
export interface MeetingAddress extends Address {
  user: string;
}

/** True when the friend typed a meeting point (USER@HOST) rather than the helper's address. */
export function isMeetingAddress(text: string): boolean {
  return text.includes('@');
}

export function parseMeetingAddress(text: string): MeetingAddress {
  const s = text.trim();
  const at = s.lastIndexOf('@');
  const user = s.slice(0, at);
  if (at < 0 || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user))
    throw new HelpError('usage', `"${text}" is not a meeting point remote-help can use: the part before @ must be a user name.`,
      'Type it as your helper reads it, like alex@server.example.org.');
  return { user, ...parseAddress(s.slice(at + 1), 22) };
}

/** Checks what the friend typed for the helper: an address, or a meeting point (throws HelpError). */
export function checkDialAddress(text: string, port: number): void {
  if (isMeetingAddress(text)) parseMeetingAddress(text);
  else parseAddress(text, port);
}

/** The helper's meeting point as typed ([USER@]HOST[:PORT], or a ~/.ssh/config alias): its parts
 * (port 0 when not given: ssh's configuration decides), or a HelpError. */
export function parseVia(text: string): { user: string; host: string; port: number } {
  const s = text.trim();
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : '';
  let where: Address | null;
  try {
    where = parseAddress(s.slice(at + 1), 0);
  } catch {
    where = null;
  }
  if (!where || (at >= 0 && !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user)))
    throw new HelpError('usage', `"${text}" is not a server remote-help can meet at.`,
      'Give it as you would to ssh: HOST, USER@HOST or USER@HOST:PORT (or a Host alias of ~/.ssh/config).');
  return { user, host: where.host, port: where.port };
}

