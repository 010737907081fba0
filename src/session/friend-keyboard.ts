// The friend's keyboard during the session, whichever way the session is shown (friend-console.ts
// paints it, friend-lines.ts writes lines): the raw bytes are scanned for the hotkey before
// anything reaches the shell (hotkey.ts), Ctrl-Alt-K toggles the helper's keyboard, and keys that
// answer a question on the status line are taken there.
import type { Readable } from 'node:stream';
import type { Clock } from './clock';
import { flush, hotkeyState, scan, takeKeyboardToggles } from './hotkey';
import type { Pty } from './pty';

export interface FriendKeysOptions {
  input: Readable;
  utf8: boolean;
  pty: Pty;
  clock: Clock;
  onKeyboardToggle(): void;
  /** Keys answering a question on the status line are taken there (true), not sent on. */
  takeKey?(bytes: Buffer): boolean;
  onHotkey(): void;
}

/** How long a lone ESC (or another hotkey prefix) is held before it goes to the shell. */
const HOLD_MS = 30;

/** Reads the friend's keyboard until the returned function stops it. */
export function readFriendKeys(o: FriendKeysOptions): () => void {
  let keys = hotkeyState({ utf8: o.utf8 });
  let hold: unknown = null;
  let stopped = false;

  const toPty = (bytes: Buffer) => {
    if (bytes.length === 0 || o.takeKey?.(bytes)) return;
    const t = takeKeyboardToggles(bytes);
    if (t.rest.length > 0) o.pty.write(t.rest);
    if (t.toggles % 2 === 1) o.onKeyboardToggle();
  };
  const onInput = (chunk: Buffer) => {
    if (stopped) return;
    o.clock.clearTimeout(hold);
    hold = null;
    const r = scan(keys, chunk);
    keys = r.state;
    toPty(r.passthrough);
    if (r.kill) return o.onHotkey();
    if (keys.held.length > 0) {
      hold = o.clock.setTimeout(() => {
        hold = null;
        const f = flush(keys);
        keys = f.state;
        toPty(f.passthrough);
      }, HOLD_MS);
    }
  };
  o.input.on('data', onInput);
  o.input.resume();
  return () => {
    if (stopped) return;
    stopped = true;
    o.clock.clearTimeout(hold);
    o.input.off('data', onInput);
  };
}
