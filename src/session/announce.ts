// The line session's status (friend-lines.ts, helper-lines.ts): no status line is painted, so what
// it would say is announced as one short line of its own when it changes, for a screen reader to
// speak or a braille display to show. Pure but for the clock.
//
// Each line starts with PREFIX, in reverse video where the terminal has colours: the shell's
// output never gets reverse video through (plain-filter.ts), and its own "[remote-help]" comes out
// as "[not remote-help]", so a line that looks like ours and is not is at least marked as such.
import { formatDuration } from '../duration';
import type { Clock } from './clock';
import type { HelperPresence } from './status';

export const PREFIX = '[remote-help]';

/** A line whose text changed only in its numbers (a countdown, a copy's progress) is said again
 * at most this often. */
const NUMBERS_EVERY_MS = 60_000;

/** The text as one line: controls (from a message, a file name) become spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
}

/** An announcement as written to the terminal: on a line of its own (`fresh`: the cursor is at
 * the start of one already), the prefix in reverse video when `colour`. */
export function announcementLine(text: string, o: { fresh: boolean; colour: boolean }): string {
  const tag = o.colour ? `\x1b[0;7m${PREFIX}\x1b[0m` : PREFIX;
  return `${o.fresh ? '' : '\r\n'}${tag} ${oneLine(text)}\r\n`;
}

/** What was said last in each slot (the helper's presence, a copy), to say only what changed. */
export class Said {
  private last = new Map<string, { text: string; steady: string; at: number }>();
  constructor(private readonly clock: Clock) {}

  /** What to say now that `slot` reads `text` (null: nothing there now; `over` says what to say
   * then, given what was said last), or null when that is nothing new. */
  next(slot: string, text: string | null, over: (was: string) => string | null = () => null): string | null {
    const prev = this.last.get(slot);
    if (text === null) {
      this.last.delete(slot);
      return prev ? over(prev.text) : null;
    }
    const steady = text.replace(/\d+/g, '#');
    const now = this.clock.now();
    if (prev && (prev.text === text || (prev.steady === steady && now - prev.at < NUMBERS_EVERY_MS))) return null;
    this.last.set(slot, { text, steady, at: now });
    return text;
  }
}

/** What the friend hears about the helper: who, whether they may type, a dropped connection. */
export function friendPresenceText(p: HelperPresence): string {
  if (p.kind === 'connected' && p.mayType) return `${p.name} may type. Ctrl-Alt-K takes the keyboard away.`;
  if (p.kind === 'connected') return `${p.name} is watching and cannot type. Ctrl-Alt-K lets them type.`;
  if (p.kind === 'gone') {
    const left = formatDuration(Math.max(0, p.secondsLeft) * 1000, 'countdown');
    return `${p.name}'s connection dropped; waiting ${left} for them to come back.`;
  }
  return 'Waiting for your helper.';
}

/** Said once when the friend's line session starts. */
export const FRIEND_START = 'The session has started. Ctrl-Alt-C or F12 ends it at any time.';

/** After a copy's line (not a question): that it is over. The events log has how it ended. */
export function copyOver(was: string): string | null {
  return was.startsWith('Press y or n') ? null : 'The copy has ended.';
}
