// Runs the pure handshake machine (handshake-machine.ts) against a byte stream: feeds it one
// frame at a time, so decoding stops right behind the peer's CONFIRMED, and carries out its
// effects (bytes to send, events to report).
import { FrameDecoder } from './frames';
import { identityFromSeed } from './identity';
import { checkInfo, type AbortReason, type Info } from './messages';
import { initialState, step, type HandshakeEvent, type HandshakeInput, type HandshakeState, type Phase } from './handshake-machine';

export * from './handshake-machine';

export interface HandshakeOptions {
  /** True on the side that opened the TCP connection. */
  committer: boolean;
  /** Our details; the nonce must be fresh for every handshake. */
  local: Info;
  /** The seed of the identity key in `local.identity` (the helper's), which signs our PROOF. */
  idSeed?: Buffer;
  send: (bytes: Buffer) => void;
  onEvent: (e: HandshakeEvent) => void;
}

/**
 * Runs the reducer against a byte stream. Calls may come from inside send or
 * onEvent (e.g. two instances wired directly together): they are queued and
 * handled in order, never re-entered. After 'done', stop feeding receive():
 * later bytes belong to SSH and are ignored here.
 */
export class Handshake {
  private state: HandshakeState;
  private readonly decoder = new FrameDecoder();
  private readonly inbox: Buffer[] = [];
  private readonly queue: HandshakeInput[] = [];
  private running = false;

  constructor(private readonly opts: HandshakeOptions) {
    const bad = checkInfo(opts.local);
    if (bad) throw new RangeError(`invalid local details: ${bad}`);
    if (opts.local.identity && !(opts.idSeed && identityFromSeed(opts.idSeed).publicBlob.equals(opts.local.identity.key)))
      throw new RangeError('invalid local details: the identity key does not belong to its seed');
    this.state = initialState(opts.committer, opts.local, opts.idSeed);
  }

  get phase(): Phase {
    return this.state.phase;
  }

  start(): void {
    this.run({ kind: 'start' });
  }

  receive(chunk: Buffer): void {
    if (chunk.length > 0) this.inbox.push(chunk);
    this.run();
  }

  confirm(): void {
    this.run({ kind: 'confirm' });
  }

  abort(reason: AbortReason, text: string): void {
    this.run({ kind: 'abort', reason, text });
  }

  private run(input?: HandshakeInput): void {
    if (input) this.queue.push(input);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.nextInput(); next; next = this.nextInput()) {
        const { state, effects } = step(this.state, next);
        this.state = state;
        for (const e of effects) {
          if (e.kind === 'send') this.opts.send(e.bytes);
          else this.opts.onEvent(e.event);
        }
      }
    } finally {
      this.running = false;
    }
  }

  // Local calls first, then one frame at a time, so decoding can stop right
  // behind the peer's CONFIRMED.
  private nextInput(): HandshakeInput | undefined {
    const queued = this.queue.shift();
    if (queued) return queued;
    const s = this.state;
    if (s.phase === 'done' || s.phase === 'failed') {
      this.inbox.length = 0;
      return undefined;
    }
    if (!s.started) return undefined;
    for (;;) {
      if (s.peerConfirmed) {
        const bytes = this.inbox.shift();
        return bytes && { kind: 'ssh', bytes };
      }
      const r = this.decoder.next();
      if (r) return 'error' in r ? { kind: 'badBytes', reason: r.error } : { kind: 'frame', frame: r.frame, after: this.decoder.rest() };
      const chunk = this.inbox.shift();
      if (!chunk) return undefined;
      this.decoder.push(chunk);
    }
  }
}
