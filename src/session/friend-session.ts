// The shared session on the friend's side: one pty, the friend's keyboard and screen, the helper's
// channel. Both people type into the pty; its output goes to both. The friend's hotkey is scanned
// in the raw input bytes before anything reaches the shell.
import type { Duplex, Readable, Writable } from 'node:stream';
import { flush, hotkeyState, scan } from './hotkey';
import type { Pty } from './pty';
import { sharedSize, type TermSize } from './size';

export type EndReason = 'hotkey' | 'shell-exited' | 'helper-left' | 'connection-lost' | 'signal' | 'error';

export interface FriendTerminal {
  input: Readable;
  output: Writable;
  size(): TermSize;
  utf8: boolean;
}

export interface FriendSessionOptions {
  pty: Pty;
  friend: FriendTerminal;
  helper: Duplex;
  helperSize: TermSize | null;
  /** Most a stalled helper may hold of output before we stop sending it more. */
  helperBacklogBytes?: number;
  onEnd(reason: EndReason, detail: string): void;
  onResize?(size: TermSize): void;
}

export interface FriendSession {
  /** Tells the friend something, on their own screen only. */
  announce(text: string): void;
  friendResized(): void;
  helperResized(size: TermSize): void;
  end(reason: EndReason, detail?: string): void;
}

/** How long a lone ESC (or another hotkey prefix) is held before it goes to the shell. */
const HOLD_MS = 30;
/** How much of the newest output a helper who fell behind still gets. */
const TAIL_BYTES = 16 * 1024;

export function startFriendSession(o: FriendSessionOptions): FriendSession {
  const backlog = o.helperBacklogBytes ?? 256 * 1024;
  let keys = hotkeyState({ utf8: o.friend.utf8 });
  let holdTimer: NodeJS.Timeout | null = null;
  let helperSize = o.helperSize;
  let ended = false;
  let size = sharedSize(o.friend.size(), helperSize);

  const onFriendInput = (chunk: Buffer) => {
    if (ended) return;
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = null;
    const r = scan(keys, chunk);
    keys = r.state;
    if (r.passthrough.length > 0) o.pty.write(r.passthrough);
    if (r.kill) return end('hotkey', 'The friend pressed the hotkey.');
    holdTimer = setTimeout(() => {
      const f = flush(keys);
      keys = f.state;
      if (f.passthrough.length > 0) o.pty.write(f.passthrough);
    }, HOLD_MS);
  };
  const onHelperInput = (chunk: Buffer) => {
    if (!ended) o.pty.write(chunk);
  };
  // A slow helper never slows the friend's shell: past the bound, output for the helper is
  // dropped, keeping only its last few KiB; once the helper's link drains it gets a note and that
  // tail, so the newest lines (the prompt after a flood) always arrive.
  let skipped = 0;
  let tail: Buffer[] = [];
  let tailBytes = 0;
  o.pty.onData((data) => {
    if (ended) return;
    o.friend.output.write(data);
    if (skipped === 0 && o.helper.writableLength < backlog) {
      o.helper.write(data);
      return;
    }
    skipped += data.length;
    watchCatchUp();
    tail.push(data);
    tailBytes += data.length;
    while (tailBytes - tail[0].length >= TAIL_BYTES) tailBytes -= tail.shift()!.length;
  });
  // The helper's channel may never report 'drain' (its high-water mark can be above our bound),
  // so while output is being skipped we look every 100 ms whether the link has caught up.
  let catchUp: NodeJS.Timeout | null = null;
  const watchCatchUp = () => {
    if (catchUp || ended) return;
    catchUp = setInterval(() => {
      if (ended || o.helper.writableLength > backlog / 4) return;
      clearInterval(catchUp!);
      catchUp = null;
      sendTail();
    }, 100);
  };
  const sendTail = () => {
    if (ended || skipped === 0) return;
    const kept = Buffer.concat(tail);
    const note = `\r\n[remote-help: your link was too slow; ${skipped - kept.length} bytes of output skipped]\r\n`;
    skipped = 0;
    tail = [];
    tailBytes = 0;
    o.helper.write(note);
    o.helper.write(kept);
  };
  o.pty.onExit((code) => end('shell-exited', `The shell ended (exit status ${code}).`));
  o.friend.input.on('data', onFriendInput);
  o.friend.input.resume();
  o.helper.on('data', onHelperInput);
  o.helper.on('close', () => end('helper-left', 'The helper left the session.'));

  function resize() {
    const next = sharedSize(o.friend.size(), helperSize);
    if (next.cols === size.cols && next.rows === size.rows) return;
    size = next;
    o.pty.resize(size);
    o.onResize?.(size);
  }

  function end(reason: EndReason, detail = '') {
    if (ended) return;
    ended = true;
    if (holdTimer) clearTimeout(holdTimer);
    if (catchUp) clearInterval(catchUp);
    o.friend.input.off('data', onFriendInput);
    o.helper.off('data', onHelperInput);
    o.pty.kill();
    o.onEnd(reason, detail);
  }

  o.pty.resize(size);
  return {
    announce(text) {
      if (!ended) o.friend.output.write(`\r\n[remote-help] ${text}\r\n`);
    },
    friendResized: resize,
    helperResized(s) {
      helperSize = s;
      resize();
    },
    end,
  };
}
