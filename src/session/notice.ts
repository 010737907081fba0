// What a status line shows for a while besides its state: a notice (a refused request, a message,
// a note from the other side) until it expires, and a countdown that repaints every second. Used
// by both people's consoles (friend-console.ts, helper-console.ts).
import type { Clock } from './clock';

export interface Notices {
  /** Shows `text` for `ms`, in place of what was shown before. */
  say(text: string, ms: number): void;
  /** The notice shown now, or null. */
  current(): string | null;
  /** Repaints every second while on (a countdown on the status line). */
  countdown(on: boolean): void;
  stop(): void;
}

export function notices(clock: Clock, repaint: () => void): Notices {
  let notice: { text: string; until: number } | null = null;
  let expiry: unknown = null;
  let ticking: unknown = null;
  return {
    say(text, ms) {
      notice = { text, until: clock.now() + ms };
      clock.clearTimeout(expiry);
      expiry = clock.setTimeout(repaint, ms);
      repaint();
    },
    current() {
      if (notice && notice.until <= clock.now()) notice = null;
      return notice?.text ?? null;
    },
    countdown(on) {
      clock.clearInterval(ticking);
      ticking = on ? clock.setInterval(repaint, 1000) : null;
      repaint();
    },
    stop() {
      clock.clearTimeout(expiry);
      clock.clearInterval(ticking);
    },
  };
}
