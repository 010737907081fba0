// Coming back after the link dropped (DESIGN.md section 4: "a helper who drops can reconnect,
// keys already verified"). The side that dialled dials the same address again; the side that
// waited waits on the same port again. No new code is read: the new connection starts with one
// line naming the session, then runs SSH with the keys pinned when the code was checked, so only
// the two programs that checked it can finish it. The line only lets the waiting side turn away
// strangers cheaply; it proves nothing by itself.
//
//   "remote-help resume " + 32 hex digits + "\n"    dialling side -> waiting side, once
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { HelpError } from '../errors';
import type { EventLog } from '../events';
import type { Address } from './address';
import { dial, listen, type Link } from './tcp';

const PREFIX = 'remote-help resume ';
const LINE_BYTES = PREFIX.length + 32 + 1;
/** A stranger must say who they are this fast. */
const GREETING_MS = 10_000;
const MAX_PENDING = 8;
const RETRY_MS = 1000;

/** Names one session: both programs compute it from the two verified keys. */
export function resumeToken(friendKey: Buffer, helperKey: Buffer): string {
  return createHash('sha256').update('remote-help resume\0').update(friendKey).update(helperKey).digest('hex').slice(0, 32);
}

export function resumeLine(token: string): Buffer {
  return Buffer.from(`${PREFIX}${token}\n`);
}

export interface RelinkOptions {
  token: string;
  /** When to give up (ms since the epoch). */
  deadline: number;
  signal: AbortSignal;
  events: EventLog;
}

const gaveUp = () => new HelpError('lost', 'The other side did not come back in time.', 'Call each other, then start again.');
const cancelled = () => new HelpError('cancelled', 'Stopped waiting for the other side to come back.');

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** The dialling side: dials until it gets through or the deadline passes. */
export async function redial(address: Address, o: RelinkOptions): Promise<Duplex> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal.aborted) throw cancelled();
    const left = o.deadline - Date.now();
    if (left <= 0) throw gaveUp();
    o.events.emit('reconnecting', { address: address.host, port: address.port, attempt });
    try {
      const link = await dial(address, Math.min(5000, left));
      if (o.signal.aborted) {
        link.stream.destroy();
        throw cancelled();
      }
      link.stream.write(resumeLine(o.token));
      o.events.emit('connected', { remote: link.remote, resume: true });
      return link.stream;
    } catch (err) {
      if (err instanceof HelpError && err.exit === 'cancelled') throw err;
      await sleep(RETRY_MS, o.signal);
    }
  }
}

/** The waiting side: listens on the same port until the other program says the right line. */
export async function awaitResume(port: number, o: RelinkOptions): Promise<Duplex> {
  if (o.signal.aborted) throw cancelled();
  const pending = new Set<Link>();
  let resolveWin!: (s: Duplex) => void;
  let rejectWin!: (e: HelpError) => void;
  const won = new Promise<Duplex>((res, rej) => ((resolveWin = res), (rejectWin = rej)));
  const expected = resumeLine(o.token);
  const reject = (link: Link, reason: string) => {
    pending.delete(link);
    o.events.emit('rejected-connection', { remote: link.remote, reason });
    link.stream.destroy();
  };
  let server: { close(): void };
  try {
    server = await listen(port, (link) => {
      if (pending.size >= MAX_PENDING) {
        const oldest = pending.values().next().value as Link;
        reject(oldest, 'made room for a newer connection');
      }
      pending.add(link);
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => reject(link, 'did not say which session in time'), GREETING_MS);
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const n = Math.min(got.length, LINE_BYTES);
        if (!got.subarray(0, n).equals(expected.subarray(0, n))) {
          clearTimeout(timer);
          link.stream.off('data', onData);
          return reject(link, 'not this session');
        }
        if (got.length < LINE_BYTES) return;
        clearTimeout(timer);
        link.stream.off('data', onData);
        link.stream.pause();
        if (got.length > LINE_BYTES) link.stream.unshift(got.subarray(LINE_BYTES));
        pending.delete(link);
        o.events.emit('connected', { remote: link.remote, resume: true });
        resolveWin(link.stream);
      };
      link.stream.on('data', onData);
      link.stream.on('error', () => {});
      link.stream.on('close', () => {
        clearTimeout(timer);
        pending.delete(link);
      });
    });
  } catch (err) {
    throw err instanceof HelpError ? err : new HelpError('lost', `Could not wait for the other side again (${(err as Error).message}).`, 'Start again.');
  }
  o.events.emit('listening', { port, resume: true });
  const timer = setTimeout(() => rejectWin(gaveUp()), Math.max(0, o.deadline - Date.now()));
  const onAbort = () => rejectWin(cancelled());
  o.signal.addEventListener('abort', onAbort);
  try {
    return await won;
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
    server.close();
    for (const link of pending) link.stream.destroy();
  }
}
