// The password side of VNC: the answer to the server's challenge in RFB "VNC Authentication"
// (security type 2, RFC 6143 section 7.2.2), the obfuscated password file that x11vnc -rfbauth
// and vncviewer -passwd read, and fresh passwords. Pure: no files, no sockets.
//
// Both use single DES with the password as key, in the way VNC has always done it: the bits of
// each key byte are taken in reverse order (VNC's DES code numbers key bits from the low end).
// Node 20's OpenSSL has no single DES, but triple DES with the key twice (K||K, so K1 = K2)
// computes exactly single DES with K.
import { createCipheriv, randomInt } from 'node:crypto';

/** The password as VNC uses it: its UTF-8 bytes, cut to 8 and padded with zero bytes to 8. */
function passwordBlock(password: string): Buffer {
  const block = Buffer.alloc(8);
  Buffer.from(password, 'utf8').copy(block, 0, 0, 8);
  return block;
}

function reverseBits(byte: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if (byte & (1 << i)) r |= 1 << (7 - i);
  return r;
}

/** Encrypts whole 8-byte blocks with single DES in ECB mode, the key's bytes bit-reversed first. */
function vncDes(key: Buffer, data: Buffer): Buffer {
  if (key.length !== 8 || data.length % 8 !== 0) throw new Error('VNC DES takes an 8-byte key and whole 8-byte blocks');
  const k = Buffer.from(key.map(reverseBits));
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([k, k]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** The client's answer to a VNC Authentication challenge: the 16-byte challenge encrypted with the
 * password. */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  if (challenge.length !== 16) throw new Error(`a VNC challenge is 16 bytes, not ${challenge.length}`);
  return vncDes(passwordBlock(password), challenge);
}

// The key every VNC implementation uses to hide stored passwords (vncauth.c: 23 82 107 6 35 78 88 7).
// Like a password, it goes through the bit reversal: checked byte for byte against the files
// `x11vnc -storepasswd` writes (test/vncauth.test.ts).
const PASSWD_FILE_KEY = Buffer.from([23, 82, 107, 6, 35, 78, 88, 7]);

/** The 8 bytes of a VNC password file, as `x11vnc -storepasswd PASS FILE` writes them. */
export function vncPasswdFile(password: string): Buffer {
  return vncDes(PASSWD_FILE_KEY, passwordBlock(password));
}

// Letters and digits, without the ones that look alike (I, l, O, o, 0, 1): a password of these
// survives any file (x11vnc's -passwdfile reads a line of text, where "#" could start a comment),
// log or command line untouched, and a helper can type it from the status line; 8 of them (VNC
// reads no more) give 8 × log2(56) ≈ 46 bits.
const SYMBOLS = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';

/** A new random password of 8 letters and digits, each drawn uniformly. */
export function freshVncPassword(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += SYMBOLS[randomInt(SYMBOLS.length)];
  return s;
}
