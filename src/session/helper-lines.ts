// The helper's own terminal during the session, as lines (--plain, or a console screen reader):
// nothing is repainted. The shell's output goes to the terminal as it comes, filtered like the
// friend's (plain-filter.ts: a compromised machine cannot query the helper's terminal, write its
// clipboard or set its title), and what the painted status line would say is announced as a line
// of its own when it changes (announce.ts). A line typed on the status line (~m, a copy's paths,
// a yes or no) is shown as a line too, after the prompt; output arriving meanwhile breaks it, and
// it is shown again once the output pauses. Same interface as helper-console.ts.
import { formatDuration } from '../duration';
import { announcementLine, PREFIX, Said } from './announce';
import type { HelperConsole, HelperConsoleKind, HelperConsoleOptions, HelperStatus } from './helper-console';
import { PlainFilter } from './plain-filter';
import type { TermSize } from './size';

/** How long the output must pause before a prompt it broke is shown again. */
const PROMPT_AGAIN_MS = 300;

export const helperLines: HelperConsoleKind = { area: (term: TermSize) => term, start: startHelperLines };

/** What the helper hears about the session: whom they help and how to leave, or the reconnect. */
function presenceText(s: HelperStatus): string | null {
  const v = s.view;
  if (v.kind === 'live') return `Helping ${v.name}. To leave: Enter, then ~.  For help: Enter, then ~?`;
  if (v.kind === 'gone') {
    const left = formatDuration(v.secondsLeft * 1000, 'countdown');
    return `The connection to ${v.name} dropped; reconnecting, ${left} left. Ctrl-C gives up.`;
  }
  return null; // a prompt: shown as its own line
}

export function startHelperLines(o: HelperConsoleOptions): HelperConsole {
  const colour = o.terminal.colour !== false;
  const filter = new PlainFilter({ utf8: o.terminal.utf8, colour });
  const said = new Said(o.clock);
  const out = o.terminal.output;
  const tag = colour ? `\x1b[0;7m${PREFIX}\x1b[0m` : PREFIX;
  /** The cursor is at the start of a fresh line. */
  let fresh = true;
  /** The prompt shown now: its question, what is typed, and whether the line is still whole. */
  let shown: { label: string; text: string; whole: boolean } | null = null;
  let again: unknown = null;
  let ticking: unknown = null;
  let stopped = false;

  const write = (text: string | Buffer) => {
    if (text.length) out.write(text);
  };
  /** Something else was written on the prompt's line: show it again once the output pauses. */
  const broke = () => {
    if (!shown) return;
    shown.whole = false;
    o.clock.clearTimeout(again);
    again = o.clock.setTimeout(() => ((again = null), showPrompt()), PROMPT_AGAIN_MS);
  };
  const announce = (text: string) => {
    if (stopped) return;
    write(announcementLine(text, { fresh, colour }));
    fresh = true;
    broke();
  };
  /** The prompt's line as it should be now, written with the least change. */
  const showPrompt = () => {
    const s = o.status();
    if (s.view.kind !== 'prompt') {
      if (shown && !fresh) write('\r\n');
      if (shown) fresh = true;
      shown = null;
      return;
    }
    const label = s.view.label[0];
    const text = Array.from(s.view.text);
    if (!shown || shown.label !== label || !shown.whole) {
      write(`${fresh ? '' : '\r\n'}${tag} ${label}${text.join('')}`);
      shown = { label, text: s.view.text, whole: true };
      fresh = false;
      return;
    }
    const before = Array.from(shown.text);
    let same = 0;
    while (same < before.length && same < text.length && before[same] === text[same]) same++;
    write('\b \b'.repeat(before.length - same) + text.slice(same).join(''));
    shown.text = s.view.text;
  };
  const update = () => {
    if (stopped) return;
    const s = o.status();
    const presence = s.view.kind === 'prompt' ? null : said.next('presence', presenceText(s));
    const files = said.next('files', s.files);
    if (presence) announce(presence);
    if (files) announce(files);
    showPrompt();
  };
  // After the session has finished starting: the status reads what the session sets up after us.
  queueMicrotask(update);

  return {
    write(data) {
      if (stopped) return;
      const bytes = filter.push(data);
      if (!bytes.length) return;
      if (shown?.whole) {
        write(fresh ? '' : '\r\n');
        fresh = true;
      }
      write(bytes);
      fresh = filter.atLineStart;
      broke();
    },
    ptySize: () => false,
    resized: () => {},
    say: announce,
    countdown(on) {
      o.clock.clearInterval(ticking);
      ticking = on ? o.clock.setInterval(update, 1000) : null;
      update();
    },
    dirty: update,
    stop() {
      if (stopped) return;
      stopped = true;
      o.clock.clearTimeout(again);
      o.clock.clearInterval(ticking);
      write(filter.flush());
      if (colour) write('\x1b[0m');
    },
  };
}
