// Brings two remote-help programs together: the waiting side (listen) or the dialling side (dial),
// then the handshake up to the code. Works on plain Duplex streams from tcp.ts; keeps every wait
// bounded and turns every failure into a HelpError a person can read.
import type { Duplex } from 'node:stream';
import { formatDuration } from '../duration';
import { HelpError } from '../errors';
import type { EventLog } from '../events';
import { Handshake, type HandshakeEvent } from './handshake';
import type { AbortReason, Info, Role } from './messages';
import type { Address } from './address';
import { describeDialError, dial, listen, type Link } from './tcp';
import { freshNonce, type SessionKey } from './keys';

export interface Identity {
  role: Role;
  key: SessionKey;
  user: string;
  host: string;
  caps: number;
}

export interface Timeouts {
  /** From TCP connect to the code being shown (HELLO, COMMIT, INFO). */
  handshakeMs: number;
  /** From the code being shown to both sides confirming: people reading a code over the phone. */
  verifyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { handshakeMs: 15_000, verifyMs: 10 * 60_000 };

export interface Verified {
  stream: Duplex;
  peer: Info;
}

/** A connection whose code is on the screen, waiting for the people to confirm it. */
export interface Verifying {
  remote: string;
  code: string;
  peer: Info;
  confirm(): void;
  abort(reason: AbortReason, text: string): void;
  onPeerConfirmed(cb: () => void): void;
  /** Resolves once both sides confirmed: the stream is positioned at the first SSH byte. */
  finished: Promise<Verified>;
}

const PROTOCOL_FAIL = new Set<AbortReason>(['protocol-error', 'busy']);

function failure(e: Extract<HandshakeEvent, { kind: 'failed' }>): HelpError {
  if (e.reason === 'timeout')
    return new HelpError('code', e.message, 'Start again when you are both ready to read the code.');
  if (e.reason === 'cancelled')
    return new HelpError(e.fromPeer ? 'code' : 'cancelled', e.message, 'Start again when you are both ready.');
  if (PROTOCOL_FAIL.has(e.reason))
    return new HelpError('protocol', e.message, 'Check that both of you run remote-help and the address is right.');
  return new HelpError('code', e.message,
    'Read the code again slowly. If it still does not match, stop: someone may be in the middle.');
}

/** Runs the handshake on one link; `ready` resolves when the code can be shown. */
export function handshakeOn(link: Link, committer: boolean, me: Identity, t: Timeouts) {
  let resolveReady!: (v: Verifying) => void;
  let rejectReady!: (e: HelpError) => void;
  let resolveDone!: (v: Verified) => void;
  let rejectDone!: (e: HelpError) => void;
  const ready = new Promise<Verifying>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  const finished = new Promise<Verified>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
  finished.catch(() => {}); // a failure before the code is reported through `ready`
  const confirmedCbs: (() => void)[] = [];
  let shown = false;
  let settled = false;
  const { stream } = link;

  /** Ends this one connection; `graceful` lets a last ABORT frame leave first. */
  const fail = (err: HelpError, graceful = false) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    stream.off('data', onData);
    if (graceful && !stream.destroyed) {
      stream.end();
      setTimeout(() => stream.destroy(), 1000).unref();
    } else stream.destroy();
    if (shown) rejectDone(err);
    else rejectReady(err);
  };
  const hs = new Handshake({
    committer,
    local: { role: me.role, user: me.user, host: me.host, publicKey: me.key.publicBlob, nonce: freshNonce(), caps: me.caps },
    send: (bytes) => {
      if (!stream.destroyed) stream.write(bytes);
    },
    onEvent: (e) => {
      if (e.kind === 'code') {
        shown = true;
        clearTimeout(timer);
        timer = setTimeout(() => hs.abort('timeout', 'the code was not confirmed in time'), t.verifyMs);
        resolveReady({
          remote: link.remote,
          code: e.code,
          peer: e.peer,
          confirm: () => hs.confirm(),
          abort: (reason, text) => hs.abort(reason, text),
          onPeerConfirmed: (cb) => confirmedCbs.push(cb),
          finished,
        });
      } else if (e.kind === 'peerConfirmed') {
        for (const cb of confirmedCbs) cb();
      } else if (e.kind === 'done') {
        settled = true;
        clearTimeout(timer);
        stream.off('data', onData);
        stream.off('close', onClose);
        stream.pause();
        if (e.leftover.length > 0) stream.unshift(e.leftover);
        resolveDone({ stream, peer: e.peer });
      } else if (e.kind === 'failed') {
        fail(failure(e), true);
      }
    },
  });
  const onData = (chunk: Buffer) => hs.receive(chunk);
  const onClose = () =>
    fail(new HelpError(shown ? 'code' : 'protocol', 'The other side closed the connection before the session started.',
      'Ask the other person what they see, then start again.'));
  let timer = setTimeout(
    () => hs.abort('timeout', 'the other side did not finish the handshake in time'), t.handshakeMs);
  stream.on('data', onData);
  stream.on('close', onClose);
  stream.on('error', () => {});
  hs.start();
  return { ready, cancel: (why = 'cancelled') => fail(new HelpError('cancelled', why)) };
}

export interface WaitOptions {
  port: number;
  me: Identity;
  timeouts: Timeouts;
  waitMs: number;
  events: EventLog;
  signal?: AbortSignal;
  onListening?: (port: number) => void;
}

/** The waiting side: one peer at a time; garbage, scans and dawdlers never keep the real peer out. */
export async function waitForPeer(o: WaitOptions): Promise<Verifying> {
  const MAX_PENDING = 32;
  const pending = new Set<{ cancel(why?: string): void }>();
  let winner = false;
  let resolveWin!: (v: Verifying) => void;
  let rejectWin!: (e: HelpError) => void;
  const won = new Promise<Verifying>((res, rej) => ((resolveWin = res), (rejectWin = rej)));
  const server = await listen(o.port, (link) => {
    if (winner) {
      o.events.emit('rejected-connection', { remote: link.remote, reason: 'busy' });
      link.stream.destroy();
      return;
    }
    // Full of connections that have not finished their handshake: the oldest makes room, so a
    // crowd of idle connections cannot keep the real peer out.
    const oldest = pending.size >= MAX_PENDING ? pending.values().next().value : undefined;
    if (oldest) {
      pending.delete(oldest);
      oldest.cancel('made room for a newer connection');
    }
    o.events.emit('connected', { remote: link.remote });
    const h = handshakeOn(link, false, o.me, o.timeouts);
    pending.add(h);
    h.ready.then(
      (v) => {
        pending.delete(h);
        if (winner) return v.abort('busy', 'someone else connected first');
        winner = true;
        resolveWin(v);
      },
      (err: HelpError) => {
        pending.delete(h);
        o.events.emit('rejected-connection', { remote: link.remote, reason: err.message });
      },
    );
  });
  o.events.emit('listening', { port: server.port });
  o.onListening?.(server.port);
  const timer = setTimeout(() => rejectWin(new HelpError('connect',
    `Nobody connected within ${formatDuration(o.waitMs)}.`, 'Check the address and port you gave, then start again.')), o.waitMs);
  const onAbort = () => rejectWin(new HelpError('cancelled', 'Stopped waiting.'));
  o.signal?.addEventListener('abort', onAbort);
  try {
    return await won;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    server.close();
    for (const h of pending) h.cancel();
  }
}

export interface DialOptions {
  address: Address;
  me: Identity;
  timeouts: Timeouts;
  waitMs: number;
  events: EventLog;
  signal?: AbortSignal;
  onRetry?: (attempt: number, why: HelpError) => void;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** The dialling side: retries while nobody is listening yet, up to the waiting time. */
export async function dialPeer(o: DialOptions): Promise<Verifying> {
  const deadline = Date.now() + o.waitMs;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new HelpError('cancelled', 'Stopped trying to connect.');
    o.events.emit('connecting', { address: o.address.host, port: o.address.port, attempt });
    let link: Link;
    try {
      link = await dial(o.address, Math.min(10_000, Math.max(1, deadline - Date.now())));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = describeDialError(o.address, e);
      if (!RETRYABLE.has(e.code ?? '') || Date.now() + 1000 >= deadline) throw why;
      o.onRetry?.(attempt, why);
      await sleep(1000, o.signal);
      continue;
    }
    o.events.emit('connected', { remote: link.remote });
    const h = handshakeOn(link, true, o.me, o.timeouts);
    const onAbort = () => h.cancel();
    o.signal?.addEventListener('abort', onAbort);
    try {
      return await h.ready;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
