// The handshake on one connection, with its time limits: from the first byte to the code on the
// screen (Verifying), then, once both people confirmed, to the stream positioned at the first SSH
// byte (Verified). Every failure becomes a HelpError a person can read.
import { HelpError } from '../errors';
import { Handshake, type HandshakeEvent } from './handshake';
import { freshNonce, type SessionKey } from './keys';
import type { IdentityKey } from './identity';
import type { AbortReason, Info, Role } from './messages';
import type { Duplex } from 'node:stream';
import type { Link } from './tcp';

export interface Identity {
  role: Role;
  key: SessionKey;
  user: string;
  host: string;
  caps: number;
  /** The helper's long-lived identity and the name it shows friends (none on the friend's side). */
  identity?: { key: IdentityKey; name: string };
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
  if (e.reason === 'not-allowed')
    return new HelpError('policy', e.message, 'Ask whoever looks after your friend\'s computer to add your identity (ssh-keygen -l -f ~/.config/remote-help/helper-identity shows it).');
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
    local: { role: me.role, user: me.user, host: me.host, publicKey: me.key.publicBlob, nonce: freshNonce(), caps: me.caps,
      ...(me.identity ? { identity: { key: me.identity.key.publicBlob, name: me.identity.name } } : {}) },
    idSeed: me.identity?.key.seed,
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

/** The handshake on a candidate connection up to the code on the screen, cancelled by `signal`. */
export function handshakeUntil(link: Link, committer: boolean, me: Identity, t: Timeouts, signal: AbortSignal): Promise<Verifying> {
  const h = handshakeOn(link, committer, me, t);
  const onAbort = () => h.cancel();
  signal.addEventListener('abort', onAbort);
  return h.ready.finally(() => signal.removeEventListener('abort', onAbort));
}
