// The shared shell's output on its way to one helper connection (DESIGN.md section 4: "a slow or
// stalled helper link must never stall the friend's shell or grow memory without bound; when the
// helper falls behind, send a fresh screen instead of the backlog").
//
// Output runs at most an allowance ahead of what the helper has: 256 KiB (the backlog), or for a
// helper that takes output fast (a LAN) a quarter second of it, at most 1 MiB; so a fast helper
// gets all of it and a slow one (behind a phone line) is never more than the backlog behind.
// "What the helper has" is what its program acknowledged on the control channel (control.ts
// "ack"); ssh2 would otherwise let its whole 2 MiB channel window go out unacknowledged, many
// seconds on a slow link. A client without acks (another SSH client) is bounded by what waits
// in the channel. Past the allowance, output for the helper is dropped; once the link has
// caught up, the helper gets one fresh copy of the screen.
//
// While a copy is fetched through the shell (files-script.ts), the helper's program must read
// every byte: then nothing is dropped, and the shell's output is held back instead (`hold`: the
// pty is not read) until the helper has caught up.
import type { Duplex } from 'node:stream';
import type { Clock } from './clock';

/** A fast helper may be this much time of output behind... */
const AHEAD_MS = 250;
/** ...up to this many bytes. */
const MAX_AHEAD = 1024 * 1024;
/** A link drained below this share of the backlog gets its fresh screen. */
const CATCH_UP_SHARE = 4;
/** The ack rate is measured over at least this long. */
const RATE_MS = 200;
/** How often a link that fell behind is looked at: the channel may never report 'drain' (its
 * high-water mark can be above our bound). */
const CATCH_UP_POLL_MS = 100;

export interface HelperFeedOptions {
  channel: Duplex;
  clock: Clock;
  backlog: number;
  /** The current screen, as bytes that redraw it (screen.ts). */
  snapshot(): string;
  /** Output was dropped for a slow helper, who now gets a fresh screen. */
  onResync(skipped: number): void;
  /** Stop reading the shell's output (true), or read it again: for a lossless feed. */
  hold?(on: boolean): void;
}

export class HelperFeed {
  private sent = 0;
  /** The most the helper's program said it received; null for a client without acks. */
  private acked: number | null = null;
  /** An earlier ack, [time, bytes], and the rate since, in bytes a second. */
  private ackMark: [number, number] | null = null;
  private ackRate = 0;
  /** Bytes dropped since the helper fell behind. */
  private skipped = 0;
  /** A fresh screen is owed: the helper fell behind or asked for one while behind. */
  private owed = false;
  private poll: unknown = null;
  private closed = false;
  private whole = false;
  private holding = false;

  constructor(private readonly o: HelperFeedOptions) {}

  /** The helper's program acknowledges what it receives: count from its first byte. */
  expectAcks(): void {
    this.acked ??= 0;
  }

  ack(bytes: number): void {
    const acked = Math.min(this.sent, Math.max(this.acked ?? 0, bytes));
    this.acked = acked;
    const now = this.o.clock.now();
    if (!this.ackMark) this.ackMark = [now, acked];
    else if (now - this.ackMark[0] >= RATE_MS) {
      this.ackRate = ((acked - this.ackMark[1]) * 1000) / (now - this.ackMark[0]);
      this.ackMark = [now, acked];
    }
  }

  /** Every byte to the helper (on), the shell waiting for it if need be; or back to dropping
   * output for a helper that falls behind (off). */
  lossless(on: boolean): void {
    this.whole = on;
    if (!on) this.release();
  }

  /** Output of the shell: sent on, or dropped while the helper is behind. */
  output(data: Buffer): void {
    if (this.closed) return;
    if (this.whole && !this.owed) {
      this.send(data);
      if (!this.keepsUp()) this.holdBack();
      return;
    }
    if (!this.owed && this.keepsUp()) return this.send(data);
    this.skipped += data.length;
    this.owe();
  }

  /** A fresh screen: now if the link keeps up, else once it has caught up. However often it is
   * asked for, no more than one is on the way. */
  requestScreen(): void {
    if (this.closed) return;
    if (!this.owed && this.keepsUp()) return this.sendScreen();
    this.owe();
  }

  /** A fresh screen now, whatever is on the way (a helper who comes back). */
  sendScreen(): void {
    if (this.closed || this.o.channel.destroyed) return;
    this.owed = false;
    this.skipped = 0;
    this.send(this.o.snapshot());
  }

  close(): void {
    this.closed = true;
    this.stopPolling();
    this.release();
  }

  private holdBack(): void {
    if (!this.holding) {
      this.holding = true;
      this.o.hold?.(true);
    }
    if (this.poll) return;
    this.poll = this.o.clock.setInterval(() => {
      if (this.pending() > this.o.backlog / CATCH_UP_SHARE && !this.closed) return;
      this.stopPolling();
      this.release();
    }, CATCH_UP_POLL_MS / 10);
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.o.hold?.(false);
  }

  /** Output on its way: with acks, all the helper has not received yet, wherever it is (our
   * queue, SSH's window, the network); without, what is queued in the channel. What is queued
   * here always counts: a helper that acknowledges more than it reads cannot make us hold more. */
  private pending(): number {
    const queued = this.o.channel.writableLength;
    return this.acked === null ? queued : Math.max(queued, this.sent - this.acked);
  }

  private keepsUp(): boolean {
    const allowance = Math.min(MAX_AHEAD, Math.max(this.o.backlog, (this.ackRate * AHEAD_MS) / 1000));
    return this.pending() < allowance;
  }

  private send(data: Buffer | string): void {
    this.sent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.o.channel.write(data);
  }

  private owe(): void {
    this.owed = true;
    if (this.poll) return;
    this.poll = this.o.clock.setInterval(() => {
      if (this.pending() > this.o.backlog / CATCH_UP_SHARE) return;
      this.stopPolling();
      if (this.skipped > 0) this.o.onResync(this.skipped);
      this.sendScreen();
    }, CATCH_UP_POLL_MS);
  }

  private stopPolling(): void {
    if (this.poll) this.o.clock.clearInterval(this.poll);
    this.poll = null;
  }
}
