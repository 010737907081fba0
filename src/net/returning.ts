// Coming back after the link dropped (DESIGN.md section 4: "a helper who drops can reconnect,
// keys already verified"). No new code is read: a connection that comes back starts with one line
// naming the session, then runs SSH with the keys pinned when the code was checked, so only the
// two programs that checked it can finish it. The line only lets the waiting side turn strangers
// away cheaply; it proves nothing by itself.
//
//   "remote-help resume " + 32 hex digits + "\n"    dialling side -> waiting side, once
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { HelpError } from '../errors';

const PREFIX = 'remote-help resume ';
const LINE_BYTES = PREFIX.length + 32 + 1;
/** A connection must say which session it returns to this fast. */
const GREETING_MS = 10_000;

/** Names one session: both programs compute it from the two verified keys. */
export function resumeToken(friendKey: Buffer, helperKey: Buffer): string {
  return createHash('sha256').update('remote-help resume\0').update(friendKey).update(helperKey).digest('hex').slice(0, 32);
}

export function resumeLine(token: string): Buffer {
  return Buffer.from(`${PREFIX}${token}\n`);
}

/** Reads the resume line; resolves with the stream paused right behind it (what came after is
 * put back), rejects as soon as a byte differs, or after GREETING_MS. */
export function readResumeLine(stream: Duplex, token: string, signal: AbortSignal): Promise<void> {
  const expected = resumeLine(token);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const finish = (err: HelpError | null) => {
      clearTimeout(timer);
      stream.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      if (err) return reject(err);
      stream.pause();
      if (got.length > LINE_BYTES) stream.unshift(got.subarray(LINE_BYTES));
      resolve();
    };
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const n = Math.min(got.length, LINE_BYTES);
      if (!got.subarray(0, n).equals(expected.subarray(0, n))) return finish(new HelpError('protocol', 'not this session'));
      if (got.length >= LINE_BYTES) finish(null);
    };
    const onAbort = () => finish(new HelpError('cancelled', 'no longer wanted'));
    const timer = setTimeout(() => finish(new HelpError('protocol', 'did not say which session in time')), GREETING_MS);
    signal.addEventListener('abort', onAbort);
    stream.on('data', onData);
  });
}
