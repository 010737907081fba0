// Coming back after the link dropped (DESIGN.md section 4: "a helper who drops can reconnect,
// keys already verified"). No new code is read. A connection that comes back names the session,
// then proves it knows the session's resume secret, which the friend's program made at random and
// sent to the helper's inside SSH (control.ts "resume"): an eavesdropper on the first connection
// saw the session's name but never the secret, and cannot answer a fresh challenge. Then SSH runs
// with the keys pinned when the code was checked, which proves the rest.
//
//   dialling side -> waiting side   "remote-help resume " + 32 hex digits (the session) + "\n"
//   waiting side -> dialling side   "remote-help challenge " + 64 hex digits (a fresh nonce) + "\n"
//   dialling side -> waiting side   "remote-help proof " + 64 hex digits + "\n"
//        proof = HMAC-SHA256(secret, "remote-help resume proof\0" + session + nonce)
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { HelpError } from '../errors';

const RESUME = 'remote-help resume ';
const CHALLENGE = 'remote-help challenge ';
const PROOF = 'remote-help proof ';
/** Each line must arrive this fast. */
const LINE_MS = 10_000;

/** Names one session: both programs compute it from the two verified keys. It is no secret. */
export function resumeToken(friendKey: Buffer, helperKey: Buffer): string {
  return createHash('sha256').update('remote-help resume\0').update(friendKey).update(helperKey).digest('hex').slice(0, 32);
}

export function resumeLine(token: string): Buffer {
  return Buffer.from(`${RESUME}${token}\n`);
}

/** A fresh resume secret, made by the friend's program for one session. */
export function newResumeSecret(): Buffer {
  return randomBytes(32);
}

function proof(secret: Buffer, token: string, nonce: Buffer): Buffer {
  return createHmac('sha256', secret).update('remote-help resume proof\0').update(token).update(nonce).digest();
}

/** The dialling side: names the session and answers the challenge. */
export async function proveReturn(stream: Duplex, token: string, secret: Buffer, signal: AbortSignal): Promise<void> {
  stream.write(resumeLine(token));
  const nonce = Buffer.from(await readLine(stream, CHALLENGE, 64, signal), 'hex');
  stream.write(`${PROOF}${proof(secret, token, nonce).toString('hex')}\n`);
}

/** The waiting side: the session's name, then the proof for a fresh challenge. Resolves with the
 * stream paused right behind the proof (what came after is put back for SSH). */
export async function checkReturn(stream: Duplex, token: string, secret: Buffer | null, signal: AbortSignal): Promise<void> {
  if ((await readLine(stream, RESUME, 32, signal)) !== token) throw new HelpError('protocol', 'not this session');
  if (!secret) throw new HelpError('protocol', 'this session cannot be resumed (its secret never arrived)');
  const nonce = randomBytes(32);
  stream.write(`${CHALLENGE}${nonce.toString('hex')}\n`);
  const answer = Buffer.from(await readLine(stream, PROOF, 64, signal), 'hex');
  if (!timingSafeEqual(answer, proof(secret, token, nonce))) throw new HelpError('protocol', 'a wrong proof for this session');
}

/**
 * Reads one line `prefix` + `digits` lowercase hex digits + "\n"; resolves with the digits and
 * the stream paused right behind the line. Rejects as soon as a byte cannot belong to such a line,
 * or after LINE_MS.
 */
function readLine(stream: Duplex, prefix: string, digits: number, signal: AbortSignal): Promise<string> {
  const size = prefix.length + digits + 1;
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const finish = (err: HelpError | null) => {
      clearTimeout(timer);
      stream.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      if (err) return reject(err);
      stream.pause();
      if (got.length > size) stream.unshift(got.subarray(size));
      resolve(got.subarray(prefix.length, prefix.length + digits).toString('latin1'));
    };
    const fits = (b: number, i: number) =>
      i < prefix.length ? b === prefix.charCodeAt(i) : i < size - 1 ? (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) : b === 0x0a;
    const onData = (chunk: Buffer) => {
      const from = got.length;
      got = Buffer.concat([got, chunk]);
      for (let i = from; i < Math.min(got.length, size); i++) {
        if (!fits(got[i], i)) return finish(new HelpError('protocol', `not a "${prefix.trim()}" line`));
      }
      if (got.length >= size) finish(null);
    };
    const onAbort = () => finish(new HelpError('cancelled', 'no longer wanted'));
    const timer = setTimeout(() => finish(new HelpError('protocol', `no "${prefix.trim()}" line in time`)), LINE_MS);
    signal.addEventListener('abort', onAbort);
    stream.on('data', onData);
    stream.resume();
  });
}
