// The painter: frames (frame.ts) to the friend's terminal at a bounded rate, so a flood of output
// costs at most one frame per interval and a slow terminal gets fewer, not longer, frames.
import type { Writable } from 'node:stream';
import { drawDiff, grabFrame, releaseTerminal } from './frame';
import type { Frame, VirtualScreen } from './screen';
import type { TermSize } from './size';

// ---- the painter: frames to the friend's terminal at a bounded rate --------------------------

export interface PainterOptions {
  screen: VirtualScreen;
  /** The friend's terminal. A TTY write on Linux is synchronous and may be slow (serial console). */
  output: Writable;
  termSize(): TermSize;
  status(): string;
  utf8: boolean;
  /** The shortest time between frames; default 30 ms (at most ~33 frames a second). */
  minFrameMs?: number;
  /** A change of at most this many bytes of output since the last frame (an echoed key) is
   * painted at once, whatever minFrameMs says; a flood still waits. Default 0: never. */
  smallBytes?: number;
}

export interface Painter {
  /** The screen's content changed (by `bytes` of output, when it was output). */
  dirty(bytes?: number): void;
  /** The terminal was resized or garbled: the next frame repaints everything. */
  invalidate(): void;
  /** Paint synchronously now. */
  paintNow(): void;
  /** Stop painting: the last frame stays, the status line is cleared, the cursor is shown at the
   * start of the last row and the mirrored input modes are turned off. */
  stop(): void;
}

// A slow terminal gets this many times its last write's duration between frames, so painting
// takes at most about a fifth of its time and typing stays responsive.
const SLOW_WRITE_FACTOR = 4;

/** The wait before the next frame: a frame interval after the last one, longer when the last
 * write was slow. Zero when idle long enough, so an echoed keystroke shows on the next tick. */
export function frameDelay(now: number, lastPaintEnd: number, lastWriteMs: number, minFrameMs: number): number {
  const interval = Math.max(minFrameMs, SLOW_WRITE_FACTOR * lastWriteMs);
  return Math.max(0, lastPaintEnd + interval - now);
}

export function startPainter(o: PainterOptions): Painter {
  const minFrameMs = o.minFrameMs ?? 30;
  const smallBytes = o.smallBytes ?? 0;
  /** Output bytes since the last frame. */
  let since = 0;
  let shown: Frame | null = null; // what the friend's terminal shows; null: unknown
  let pending = false;
  let stopped = false;
  let lastPaintEnd = -Infinity;
  let lastWriteMs = 0;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let waitingForDrain = false;

  const backedUp = (): boolean =>
    o.output.writableNeedDrain || o.output.writableLength >= o.output.writableHighWaterMark;

  function cancel(): void {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
  }

  function onDrain(): void {
    waitingForDrain = false;
    schedule();
  }

  function paint(): void {
    cancel();
    pending = false;
    since = 0;
    const next = grabFrame(o.screen, o.termSize(), o.status());
    const bytes = drawDiff(shown, next, o.utf8);
    shown = next;
    const start = performance.now();
    if (bytes) o.output.write(bytes);
    lastPaintEnd = performance.now();
    lastWriteMs = lastPaintEnd - start;
  }

  function tick(): void {
    timer = null;
    immediate = null;
    if (stopped || !pending) return;
    if (backedUp()) {
      // An async stream is behind: painting now would only queue stale frames. Wait for it.
      if (!waitingForDrain) o.output.once('drain', onDrain);
      waitingForDrain = true;
      return;
    }
    paint();
  }

  function schedule(): void {
    if (stopped || !pending || timer || immediate || waitingForDrain) return;
    const small = since > 0 && since <= smallBytes && lastWriteMs < minFrameMs;
    const delay = small ? 0 : frameDelay(performance.now(), lastPaintEnd, lastWriteMs, minFrameMs);
    if (delay === 0) immediate = setImmediate(tick);
    else timer = setTimeout(tick, delay);
  }

  return {
    dirty(bytes = 0) {
      pending = true;
      since += bytes;
      // A small change may go sooner than the frame already waiting for its time.
      if (since > 0 && since <= smallBytes && timer) {
        clearTimeout(timer);
        timer = null;
      }
      schedule();
    },
    invalidate() {
      shown = null;
      pending = true;
      schedule();
    },
    paintNow() {
      if (!stopped) paint();
    },
    stop() {
      if (stopped) return;
      // Show what the shell last printed, then hand the terminal back.
      if (pending) paint();
      stopped = true;
      cancel();
      o.output.off('drain', onDrain);
      o.output.write(releaseTerminal(shown, o.termSize().rows));
    },
  };
}
