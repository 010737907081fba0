// Candidate connections being greeted (link.ts): each runs its greeting with a signal that aborts
// when it is no longer wanted; at most a given number at once, the oldest making room, so a crowd
// of idle connections never keeps the real one out.
import { HelpError } from '../errors';
import type { Link } from './tcp';

/** One connection, numbered in the order they were made (a session tells its links apart). */
export interface Conn extends Link {
  id: number;
}

/** Proves a candidate connection; resolves with what the caller needs of it, or rejects saying
 * why. `signal` aborts once the candidate is no longer wanted. */
export type Greet<T> = (conn: Conn, signal: AbortSignal) => Promise<T>;

/** A candidate that failed is closed this long after, unless its greeting closed it sooner: its
 * last words (the handshake's ABORT with a reason) may still be on their way. */
const GRACE_MS = 1000;

export class Candidates {
  private readonly pending = new Map<Conn, AbortController>();

  /** `onFailed`: a candidate failed its greeting, for the events log. */
  constructor(private readonly onFailed: (conn: Conn, reason: string) => void) {}

  /** Runs `greet` on a candidate, at most `max` at once (the oldest makes room). Its signal
   * follows `outer` until the greeting succeeds, never after. A candidate that fails is logged
   * (unless `log` is false) and closed. */
  greet<T>(conn: Conn, max: number, greet: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal, log = true): Promise<T> {
    if (this.pending.size >= max) {
      const [oldest, stop] = this.pending.entries().next().value!;
      this.pending.delete(oldest);
      stop.abort(new HelpError('connect', 'made room for a newer connection'));
    }
    const stop = new AbortController();
    const onOuter = () => stop.abort(unwanted());
    outer?.addEventListener('abort', onOuter);
    this.pending.set(conn, stop);
    let gone = () => {};
    const closed = new Promise<never>((_, reject) => {
      gone = () => reject(new HelpError('lost', 'the connection closed'));
      conn.stream.once('close', gone);
      stop.signal.addEventListener('abort', () => reject(stop.signal.reason));
    });
    closed.catch(() => {});
    const settle = () => {
      this.pending.delete(conn);
      outer?.removeEventListener('abort', onOuter);
      conn.stream.off('close', gone);
    };
    return Promise.race([greet(stop.signal), closed]).then((value) => {
      settle();
      return value;
    }, (err: unknown) => {
      settle();
      if (log) this.onFailed(conn, err instanceof Error ? err.message : String(err));
      setTimeout(() => conn.stream.destroy(), GRACE_MS).unref();
      throw err;
    });
  }

  /** Aborts every candidate still being greeted. */
  dropAll(): void {
    for (const stop of this.pending.values()) stop.abort(unwanted());
    this.pending.clear();
  }
}

const unwanted = () => new HelpError('cancelled', 'no longer wanted');

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
