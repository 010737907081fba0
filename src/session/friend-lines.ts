// The friend's own terminal during the session, as lines (--plain, or a console screen reader):
// nothing is repainted. The shell's output goes to the terminal as it comes, filtered
// (plain-filter.ts: no terminal queries, clipboard writes, titles or cursor moves), and what the
// painted status line would say is announced as a line of its own when it changes (announce.ts),
// and written to the events log. The keyboard is read as in the painted session
// (friend-keyboard.ts): the hotkey and Ctrl-Alt-K work the same. Same interface as
// friend-console.ts; a virtual screen is still kept, for the helper's fresh copies.
import { copyOver, announcementLine, FRIEND_START, friendPresenceText, Said } from './announce';
import type { FriendConsole, FriendConsoleKind, FriendConsoleOptions } from './friend-console';
import { readFriendKeys } from './friend-keyboard';
import { PlainFilter } from './plain-filter';
import { VirtualScreen } from './screen';
import { sanitizeSize, sharedSize, type TermSize } from './size';

/** The pty's size: the smaller of the two terminals on each axis (no row is kept for a status). */
export function linesPtySize(friend: TermSize, helper: TermSize | null): TermSize {
  return sharedSize(friend, helper ? sanitizeSize(helper, friend) : null);
}

export const friendLines: FriendConsoleKind = { ptySize: linesPtySize, start: startFriendLines };

export function startFriendLines(o: FriendConsoleOptions): FriendConsole {
  let size = linesPtySize(o.friend.size(), o.helperSize());
  const screen = new VirtualScreen(size);
  const colour = o.friend.colour !== false;
  const filter = new PlainFilter({ utf8: o.friend.utf8, colour });
  const said = new Said(o.clock);
  let ticking: unknown = null;
  let stopped = false;
  /** The cursor is at the start of a fresh line. */
  let fresh = true;

  const announce = (text: string) => {
    if (stopped) return;
    o.friend.output.write(announcementLine(text, { fresh, colour }));
    fresh = true;
    o.onAnnounce?.(text);
  };
  /** Says what changed since the last time: the helper, a copy or a question about one. */
  const update = () => {
    const s = o.status();
    const presence = said.next('presence', friendPresenceText(s.presence));
    const files = said.next('files', s.files, copyOver);
    if (presence) announce(presence);
    if (files) announce(files);
  };

  o.pty.resize(size);
  const stopKeys = readFriendKeys({ ...o, input: o.friend.input, utf8: o.friend.utf8 });
  announce(FRIEND_START);
  update();

  return {
    write(data) {
      if (stopped) return;
      screen.write(data);
      const out = filter.push(data);
      if (!out.length) return;
      o.friend.output.write(out);
      fresh = filter.atLineStart;
    },
    size: () => size,
    snapshot: () => screen.snapshot(),
    dirty: update,
    say: announce,
    countdown(on) {
      o.clock.clearInterval(ticking);
      ticking = on ? o.clock.setInterval(update, 1000) : null;
      update();
    },
    resize() {
      const next = linesPtySize(o.friend.size(), o.helperSize());
      if (next.cols === size.cols && next.rows === size.rows) return;
      size = next;
      screen.resize(size);
      o.pty.resize(size);
      o.onResized(size);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      stopKeys();
      o.clock.clearInterval(ticking);
      o.friend.output.write(filter.flush());
      if (colour) o.friend.output.write('\x1b[0m'); // whatever colour the shell left on
      screen.dispose();
    },
  };
}
