// The link supervisor (DESIGN.md section 5b): the one place that finds the other program, the
// first time and every time it comes back. It dials (the friend by default, the helper with
// --reverse) or waits on a port, retries, runs a greeting on each candidate connection, and
// reports link up, link down and gave up. What runs over a link (the handshake, SSH) it does not
// know: callers pass it in as the greeting.
//
// The waiting side listens once, from the first connection to the end of the session. After the
// first connection, anyone who connects must be the other program coming back: it names the
// session and proves it knows the session's secret (returning.ts), several candidates at once,
// then passes the caller's greeting (SSH with the pinned keys); each that passes is a link up, so
// a stranger on the port, even one who overheard the first connection, never keeps it out. The dialling side dials again only when asked to
// look for the link (seek), until it gets through or is told to stop.
import { HelpError } from '../errors';
import { formatDuration } from '../duration';
import type { EventLog } from '../events';
import type { Teardown } from '../teardown';
import type { Address } from './address';
import { explainDialFailure, type Missing } from './diagnose';
import { checkReturn, proveReturn } from './returning';
import { Candidates, sleep, type Conn, type Greet } from './candidates';
import { dial, listen, type Link } from './tcp';

/** `dial`: how to reach the other program when it is not plain TCP to `address` (a meeting
 * point's login, meeting-dial.ts); `host`: listen on that address only (a meeting point's tunnel). */
export type Way = { kind: 'dial'; address: Address; dial?: (timeoutMs: number) => Promise<Link> } | { kind: 'wait'; port: number; host?: string };

export type { Conn, Greet } from './candidates';

export interface HoldOptions<T> {
  /** The connection the session runs over now. */
  link: Conn;
  /** Names the session when a link comes back (returning.ts). */
  token: string;
  /** The session's resume secret, once both sides have it (null before). */
  secret(): Buffer | null;
  greet: Greet<T>;
  up(conn: Conn, value: T): void;
  down(conn: Conn, error: string | null): void;
  /** Seeking ran out of time without a connection. */
  gaveUp?(): void;
}

/** First connection: candidates handshaking at once on the waiting side; the oldest makes room. */
const MAX_FIRST = 32;
/** Returning connections tried at once on the waiting side. */
const MAX_RETURNING = 8;
const RETRYABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
/** Between dials that found nobody listening. */
const RETRY_MS = 1000;
/** A dial that got through but failed its greeting waits longer each time, up to this. */
const MAX_BACKOFF_MS = 8000;

type FirstOptions = Parameters<LinkSupervisor['first']>[1] & { until: number };

export class LinkSupervisor {
  private nextId = 1;
  private listener: { port: number; close(): void } | null = null;
  private onConnection: ((conn: Conn) => void) | null = null;
  private readonly candidates = new Candidates((conn, reason) => this.o.events.emit('rejected-connection', { remote: conn.remote, reason }));
  private held: HoldOptions<unknown> | null = null;
  private seeking: AbortController | null = null;
  private closed = false;
  /** Aborts once the session is held (or on close): first connections still handshaking. */
  private readonly firstPhase = new AbortController();
  /** Aborts on close: the greetings of connections that proved themselves. */
  private readonly closing = new AbortController();
  private readonly release: () => void;

  constructor(private readonly o: { way: Way; events: EventLog; teardown: Teardown }) {
    this.release = o.teardown.add('link supervisor', () => this.close());
  }

  /** The port the waiting side listens on, once it does. */
  get port(): number | null {
    return this.listener?.port ?? null;
  }

  /**
   * The first connection: the first candidate whose greeting (the handshake up to the code)
   * succeeds, within `waitMs`. Dialling retries while nobody listens; a greeting that fails ends
   * it. Waiting takes up to MAX_FIRST candidates at once, and goes on taking them after the first
   * succeeded until the session is held: `another` hears of each that succeeds later (the people
   * decide which is theirs by the code). Failing closes the supervisor.
   */
  async first<T>(greet: Greet<T>, f: {
    waitMs: number;
    signal?: AbortSignal;
    onListening?(port: number): void;
    /** A try failed and another follows; `missing`: what this machine's network lacks. */
    onRetry?(attempt: number, why: HelpError, missing: Missing | null): void;
    another?(conn: Conn, value: T): void;
  }): Promise<{ conn: Conn; value: T }> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    f.signal?.addEventListener('abort', onAbort);
    const until = Date.now() + f.waitMs;
    try {
      return this.o.way.kind === 'dial'
        ? await this.dialFirst(this.o.way.address, greet, { ...f, until }, stop.signal)
        : await this.waitFirst(greet, { ...f, until }, stop.signal);
    } catch (err) {
      this.close();
      throw err;
    } finally {
      f.signal?.removeEventListener('abort', onAbort);
      stop.abort(); // whoever is still trying was not first
    }
  }

  /** From now on the session runs over links: `down` when one closes, `up` for each connection
   * that comes back and passes `greet`. */
  hold<T>(h: HoldOptions<T>): void {
    this.held = h as HoldOptions<unknown>;
    this.firstPhase.abort(); // whoever is still handshaking is not the other person
    this.watch(h.link);
    this.onConnection = (conn) => this.tryReturning(conn);
  }

  /** The link is down: look for it until `until`. The waiting side goes on listening (and says
   * so); the dialling side dials again, backing off after tries that got through but failed. */
  seek(until: number): void {
    const h = this.held;
    if (!h || this.closed || this.seeking) return;
    if (this.o.way.kind === 'wait') {
      this.o.events.emit('listening', { port: this.port, resume: true });
      return;
    }
    const stop = (this.seeking = new AbortController());
    void this.redial(this.o.way.address, h, until, stop.signal).finally(() => {
      if (this.seeking === stop) this.seeking = null;
    });
  }

  stopSeeking(): void {
    this.seeking?.abort();
    this.seeking = null;
  }

  /** Stops listening and dialling and drops every candidate; links already up are their owners'. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.firstPhase.abort();
    this.stopSeeking();
    this.listener?.close();
    this.candidates.dropAll();
    this.release();
  }

  // --- first connection -----------------------------------------------------------------------

  private async dialFirst<T>(address: Address, greet: Greet<T>, f: FirstOptions, signal: AbortSignal) {
    let lastMissing: Missing['layer'] | null = null;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new HelpError('cancelled', 'Stopped trying to connect.');
      this.o.events.emit('connecting', { address: address.host, port: address.port, attempt });
      let link: Link;
      try {
        link = await this.dialOnce(address, Math.min(10_000, Math.max(1, f.until - Date.now())));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // What this machine lacks (diagnose.ts) is said instead, and waited out.
        const { why, missing } = explainDialFailure(address, e);
        if ((missing?.layer ?? null) !== lastMissing) {
          lastMissing = missing?.layer ?? null;
          this.o.events.emit('network', { missing: lastMissing });
        }
        const retry = RETRYABLE.has(e.code ?? '') || (missing !== null && missing.layer !== 'name');
        if (!retry || Date.now() + RETRY_MS >= f.until) throw why;
        f.onRetry?.(attempt, why, missing);
        await sleep(RETRY_MS, signal);
        continue;
      }
      if (lastMissing !== null) this.o.events.emit('network', { missing: null }); // it came up
      const conn = this.conn(link);
      this.o.events.emit('connected', { remote: conn.remote });
      // A greeting that fails here ends it: the person is told why (a protocol error, a wrong code).
      return { conn, value: await this.candidates.greet(conn, 1, (stop) => greet(conn, stop), signal, false) };
    }
  }

  private async waitFirst<T>(greet: Greet<T>, f: FirstOptions, signal: AbortSignal) {
    let won: { conn: Conn; value: T } | null = null;
    let resolveWin!: (v: { conn: Conn; value: T }) => void;
    let rejectWin!: (e: HelpError) => void;
    const winner = new Promise<{ conn: Conn; value: T }>((res, rej) => ((resolveWin = res), (rejectWin = rej)));
    this.onConnection = (conn) => {
      this.o.events.emit('connected', { remote: conn.remote });
      this.candidates.greet(conn, MAX_FIRST, (stop) => greet(conn, stop), this.firstPhase.signal).then((value) => {
        if (!won) return resolveWin((won = { conn, value }));
        if (f.another) f.another(conn, value);
        else this.reject(conn, 'busy');
      }, () => {});
    };
    await this.listen();
    f.onListening?.(this.port!);
    const timer = setTimeout(() => rejectWin(new HelpError('connect',
      `Nobody connected within ${formatDuration(f.waitMs)}.`, 'Check the address and port you gave, then start again.')),
    Math.max(0, f.until - Date.now()));
    const onAbort = () => rejectWin(new HelpError('cancelled', 'Stopped waiting.'));
    signal.addEventListener('abort', onAbort);
    try {
      return await winner;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  // --- coming back ----------------------------------------------------------------------------

  private tryReturning(conn: Conn): void {
    const h = this.held!;
    // Only the proof races newer candidates: a connection that gave it is the other program's,
    // and nobody can push it out while its SSH starts.
    this.candidates.greet(conn, MAX_RETURNING, (signal) => checkReturn(conn.stream, h.token, h.secret(), signal)).then(() => {
      this.o.events.emit('connected', { remote: conn.remote, resume: true });
      return h.greet(conn, this.closing.signal).then((value) => this.up(conn, value), (err: Error) => this.reject(conn, err.message));
    }, () => {});
  }

  private async redial(address: Address, h: HoldOptions<unknown>, until: number, signal: AbortSignal): Promise<void> {
    let backoff = RETRY_MS;
    for (let attempt = 1; !signal.aborted && !this.closed; attempt++) {
      const left = until - Date.now();
      if (left <= 0) return h.gaveUp?.();
      this.o.events.emit('reconnecting', { address: address.host, port: address.port, attempt });
      let link: Link;
      try {
        link = await this.dialOnce(address, Math.min(5000, left));
      } catch {
        await sleep(RETRY_MS, signal);
        continue;
      }
      const conn = this.conn(link);
      if (signal.aborted || this.closed) return void conn.stream.destroy();
      const secret = h.secret();
      try {
        const value = await this.candidates.greet(conn, 1, async (stop) => {
          if (!secret) throw new HelpError('protocol', 'this session cannot be resumed (its secret never arrived)');
          await proveReturn(conn.stream, h.token, secret, stop);
          this.o.events.emit('connected', { remote: conn.remote, resume: true });
          return h.greet(conn, stop);
        }, signal);
        return this.up(conn, value);
      } catch {
        await sleep(backoff, signal);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  private up(conn: Conn, value: unknown): void {
    if (this.closed) return void conn.stream.destroy();
    this.stopSeeking();
    this.watch(conn);
    this.held!.up(conn, value);
  }

  // --- plumbing -------------------------------------------------------------------------------

  private dialOnce(address: Address, timeoutMs: number): Promise<Link> {
    return this.o.way.kind === 'dial' && this.o.way.dial ? this.o.way.dial(timeoutMs) : dial(address, timeoutMs);
  }

  private conn(link: Link): Conn {
    return { ...link, id: this.nextId++ };
  }

  private async listen(): Promise<void> {
    if (this.o.way.kind !== 'wait') return;
    this.listener = await listen(this.o.way.port, (link) => {
      const conn = this.conn(link);
      if (this.closed || !this.onConnection) return this.reject(conn, 'busy');
      this.onConnection(conn);
    }, this.o.way.host);
    this.o.events.emit('listening', { port: this.listener.port });
    if (this.closed) this.listener.close();
  }

  private reject(conn: Conn, reason: string): void {
    this.o.events.emit('rejected-connection', { remote: conn.remote, reason });
    conn.stream.destroy();
  }

  /** A link is down when its stream closes; the last error it reported says why. */
  private watch(conn: Conn): void {
    let error: string | null = null;
    conn.stream.on('error', (err: Error) => (error ??= err.message));
    const onClose = () => {
      if (!this.closed) this.held?.down(conn, error);
    };
    if (conn.stream.destroyed) queueMicrotask(onClose);
    else conn.stream.once('close', onClose);
  }
}
