// `remote-help replay FILE`: plays a transcript back with its timing, the way the friend saw the
// session: through the same virtual screen and painter as the live session, so nothing recorded
// (a clipboard write, a title, a query the terminal would answer) reaches the terminal raw. The
// last row says what is playing; with --markers it shows remote-help's notes, with --keys what
// the helper typed, marked as theirs, including what was typed with echo off. Both are listed
// again after the end.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { formatDuration } from '../duration';
import { cleanText } from '../net/control';
import { isUtf8Locale } from '../session/hotkey';
import { startPainter } from '../session/painter';
import { VirtualScreen } from '../session/screen';
import { ENDED } from '../session/transcript';
import { openForReplay, parseEvent, printable, STILL_RUNNING } from './transcripts';

export interface ReplayOptions {
  speed: number;
  /** Longest pause shown, in seconds (at speed 1). */
  maxIdle: number;
  /** Show remote-help's notes (helper connected, keyboard taken, ...). */
  markers: boolean;
  /** Show what the helper typed. */
  keys: boolean;
  /** No pauses at all (tests, or to see how it ended). */
  instant: boolean;
}

/** Keys as text a person can read: Enter, Tab, Esc, Backspace and Ctrl-letters spelled out. */
export function visibleKeys(keys: string, utf8 = true): string {
  const [enter, tab, esc, bs] = utf8 ? ['⏎', '⇥', '⎋', '⌫'] : ['<Enter>', '<Tab>', '<Esc>', '<BS>'];
  return keys.replace(/\r\n?|\n/g, enter).replace(/\t/g, tab).replace(/\x1b/g, esc).replace(/\x7f/g, bs)
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f]/g, (c) => `^${String.fromCharCode(c.charCodeAt(0) + 64)}`);
}

/**
 * Checks FILE at once (a HelpError with exit status 2 when it is missing or not a transcript),
 * then plays it to `out`. Ctrl-C stops it cleanly.
 */
export function replayTranscript(file: string, o: ReplayOptions, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const { fd, headerBytes, header } = openForReplay(file);
  const utf8 = isUtf8Locale(process.env);
  const screen = new VirtualScreen({ cols: header.width, rows: header.height });
  // A terminal plays at its own size; a file or a pipe gets the recorded size and the status row.
  const termSize = () => (out.isTTY ? { cols: out.columns, rows: out.rows } : { cols: header.width, rows: header.height + 1 });
  if (out.isTTY && (out.columns < header.width || out.rows < header.height + 1))
    process.stderr.write(`This was recorded at ${header.width}x${header.height}; this terminal is ${out.columns}x${out.rows}, so part of it is cut off.\n`);
  const name = path.basename(file);
  let at = 0;
  let note = '';
  const notes: [number, string][] = [];
  const typed: [number, string][] = [];
  const painter = startPainter({
    screen,
    output: out,
    termSize,
    utf8,
    status: () => cleanText(`replay ${name} ${formatDuration(at * 1000, 'clock')}${note ? ` | ${note}` : ''} | Ctrl-C stops`, termSize().cols),
  });
  const input = fs.createReadStream('', { fd, start: headerBytes });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let stopped = false;
  let wake = () => {};
  let timer: NodeJS.Timeout | undefined;
  const onInterrupt = () => {
    stopped = true;
    clearTimeout(timer);
    wake();
  };
  process.on('SIGINT', onInterrupt);
  const play = async () => {
    const t0 = performance.now();
    let due = 0; // when (ms after t0) the next thing shown is due
    let shownAt = 0; // the recorded time of the last thing shown
    let ended = STILL_RUNNING;
    for await (const text of lines) {
      if (stopped) break;
      const e = parseEvent(text);
      if (!e) continue; // a half-written last line: the session was killed
      const [t, code, data] = e;
      if (code === 'm' && data.startsWith(ENDED)) ended = data.slice(ENDED.length);
      if (code === 'm') notes.push([t, data]);
      if (code === 'i') typed.push([t, data]);
      const shown = code === 'o' || code === 'r' || (code === 'm' && o.markers) || (code === 'i' && o.keys);
      if (!shown) continue;
      due += (Math.min(Math.max(0, t - shownAt), o.maxIdle) * 1000) / o.speed;
      shownAt = t;
      const wait = due - (performance.now() - t0);
      if (!o.instant && wait > 1) await new Promise<void>((r) => ((wake = r), (timer = setTimeout(r, wait))));
      if (stopped) break;
      at = t;
      if (code === 'o') screen.write(data);
      else if (code === 'r') resize(screen, data);
      else note = code === 'm' ? `note: ${data}` : `helper typed: ${visibleKeys(data, utf8)}`;
      if (!o.instant) painter.dirty();
    }
    painter.paintNow();
    painter.stop();
    // Whatever state the recorded programs left the terminal in: plain colours, a visible cursor.
    out.write('\x1b[0m\x1b[?25h\r\n');
    if (stopped) return;
    if (o.markers) listed(out, 'remote-help noted', notes, (s) => s);
    if (o.keys) listed(out, 'What the helper typed', joinLines(typed), (keys) => visibleKeys(keys, utf8));
    out.write(`End of transcript: ${ended === STILL_RUNNING ? ended : printable(ended)}\n`);
  };
  return play().finally(() => {
    process.off('SIGINT', onInterrupt);
    lines.close();
    input.destroy();
    screen.dispose();
  });
}

function resize(screen: VirtualScreen, data: string) {
  const m = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  if (m) screen.resize({ cols: Math.max(2, Number(m[1])), rows: Math.max(2, Number(m[2])) });
}

/** The helper's keys as lines: each ends at Enter (keys typed between are one line). */
function joinLines(typed: [number, string][]): [number, string][] {
  const out: [number, string][] = [];
  let open: [number, string] | null = null;
  for (const [t, keys] of typed) {
    open ??= [t, ''];
    open[1] += keys;
    if (/[\r\n]$/.test(keys)) {
      out.push(open);
      open = null;
    }
  }
  if (open) out.push(open);
  return out;
}

function listed(out: NodeJS.WritableStream, title: string, items: [number, string][], show: (s: string) => string) {
  out.write(`${title}:\n`);
  if (items.length === 0) out.write('  (nothing)\n');
  for (const [t, text] of items) out.write(`  ${formatDuration(t * 1000, 'clock')}  ${cleanText(show(text), 400)}\n`);
}
