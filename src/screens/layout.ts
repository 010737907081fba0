// Lays a screen out on a character grid: a frame, "Step N of 7", a title, few words with lots of
// space, the keys at the bottom. Pure: the same screen, size and charset give the same lines, which
// is what the golden screen tests compare.
import type { Screen } from './view';

export interface LayoutOptions {
  cols: number;
  rows: number;
  /** Box-drawing characters when the terminal speaks UTF-8, ASCII otherwise. */
  utf8: boolean;
  /** What is typed in the screen's text field. */
  typed?: string;
  /** Which of the screen's choices is selected (0-based). */
  selected?: number;
  /** Extra line for step 4: time waited and time left. */
  clock?: string;
}

export const MIN_COLS = 60;
export const MIN_ROWS = 20;

const BOX = {
  ascii: { tl: '+', tr: '+', bl: '+', br: '+', h: '-', v: '|', ml: '+', mr: '+' },
  utf8: { tl: '┌', tr: '┐', bl: '└', br: '┘', h: '─', v: '│', ml: '├', mr: '┤' },
};

/** Word-wraps one line to `width` columns; long words are cut. */
export function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)![0];
  const out: string[] = [];
  let cur = '';
  for (const word of line.trim().split(/\s+/)) {
    const next = cur ? `${cur} ${word}` : indent + word;
    if (next.length <= width) cur = next;
    else {
      if (cur) out.push(cur);
      cur = (indent + word).slice(0, width);
    }
  }
  if (cur) out.push(cur);
  return out;
}

export function tooSmall(o: { cols: number; rows: number }): boolean {
  return o.cols < MIN_COLS || o.rows < MIN_ROWS;
}

export function layout(screen: Screen, o: LayoutOptions): string[] {
  const { cols, rows } = o;
  if (tooSmall(o)) {
    const msg = [`This window is too small (${cols}x${rows}).`, `Make it at least ${MIN_COLS}x${MIN_ROWS}.`, 'Ctrl-C: quit'];
    return Array.from({ length: rows }, (_, i) => (msg[i] ?? '').slice(0, cols).padEnd(cols));
  }
  const b = o.utf8 ? BOX.utf8 : BOX.ascii;
  const inner = cols - 2;
  const width = inner - 4; // two spaces of margin on each side
  const row = (text = '') => b.v + ('  ' + text).padEnd(inner).slice(0, inner) + b.v;
  const header = screen.title === 'Finished' ? 'remote-help' : `Step ${screen.step} of 7`;
  const body: string[] = [header, '', screen.title.toUpperCase(), ''];
  (screen.choices ?? []).forEach((c, i) => body.push(...wrap(`${i === (o.selected ?? -1) ? '>' : ' '} ${c}`, width), ''));
  if (screen.big) body.push(...screen.big.map((l) => '   ' + l), '');
  for (const line of screen.lines) body.push(...wrap(line, width));
  if (o.clock) body.push('', o.clock);
  if (screen.input !== undefined) {
    const room = width - screen.input.length - 1;
    const typed = o.typed ?? '';
    body.push('', screen.input + typed.slice(Math.max(0, typed.length - room)) + '_');
  }
  const keys = wrap(screen.keys, width);
  const space = rows - 2 /* frame */ - 1 /* separator */ - keys.length;
  const shown = body.length > space ? [...body.slice(0, space - 1), '...'] : body;
  const lines = [b.tl + b.h.repeat(inner) + b.tr];
  for (let i = 0; i < space; i++) lines.push(row(shown[i]));
  lines.push(b.ml + b.h.repeat(inner) + b.mr);
  for (const k of keys) lines.push(row(k));
  lines.push(b.bl + b.h.repeat(inner) + b.br);
  return lines;
}
