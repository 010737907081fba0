// The friend's status line (DESIGN.md section 4): always on the last row of the friend's screen,
// painted by us, so nothing running in the shared shell can hide or fake it. It says that a
// session is on, who the helper is, whether the helper may type, and how to end it. Pure: the
// session passes in what is true now and the width; we pick the longest wording that fits.

import { formatDuration } from '../duration';

export type HelperPresence =
  | { kind: 'connected'; name: string; mayType: boolean }
  | { kind: 'gone'; name: string; secondsLeft: number }
  | { kind: 'waiting' };

export interface StatusInput {
  presence: HelperPresence;
  /** A line from the helper or a notice (a refused request), shown in place of the key hints. */
  notice: string | null;
  utf8: boolean;
  width: number;
}

/** Each part's wordings, from the most helpful to the shortest. */
function parts(i: StatusInput): StatusParts {
  // "Ctrl-Alt-C" is what the friend needs most: it is in every wording.
  const end = ['End: Ctrl-Alt-C or F12', 'End: Ctrl-Alt-C/F12', 'End: Ctrl-Alt-C'];
  const p = i.presence;
  const named = (name: string, rest: string[]) => [
    ...rest.map((r) => `remote-help: ${name} ${r}`),
    ...rest.map((r) => `${name} ${r}`),
  ];
  let who: string[];
  let keys: string[] = [''];
  if (p.kind === 'connected' && p.mayType) {
    who = [...named(p.name, ['is helping and may type', 'may type']), 'helper may type'];
    keys = ['Ctrl-Alt-K: take the keyboard', 'Ctrl-Alt-K: take keyboard', 'C-A-K: take kbd'];
  } else if (p.kind === 'connected') {
    who = [...named(p.name, ['is watching (cannot type)', 'is watching']), 'helper watching'];
    keys = ['Ctrl-Alt-K: let them type', 'Ctrl-Alt-K: let type', 'C-A-K: let type'];
  } else if (p.kind === 'gone') {
    const left = formatDuration(p.secondsLeft * 1000, 'countdown');
    who = [`${p.name}'s connection dropped; waiting ${left} for them`, `${p.name}'s connection dropped; waiting ${left}`, `helper gone; waiting ${left}`, `gone ${left}`];
  } else {
    who = ['remote-help: waiting for your helper', 'waiting for your helper', 'waiting'];
  }
  return { who, keys, end };
}

export function statusText(i: StatusInput): string {
  return fitStatus(parts(i), i.notice, i.utf8, i.width);
}

/** A status line's parts, each as wordings from the most helpful to the shortest. `end` says how
 * to end or leave: it is shortened last, and its shortest wording is always kept. */
export interface StatusParts {
  who: string[];
  keys: string[];
  end: string[];
}

/** The most helpful combination of the parts that fits `width` columns. The end keys are kept
 * longest; then the fewest steps down for who and the key hint together, the key hint kept on a
 * tie. A
 * notice stands in place of the key hint; one too long for the line is cut, never the end keys. */
export function fitStatus(p: StatusParts, notice: string | null, utf8: boolean, width: number): string {
  const sep = utf8 ? ' │ ' : ' | ';
  const line = (xs: string[]) => ' ' + xs.filter(Boolean).join(sep) + ' ';
  const length = (text: string) => Array.from(text).length;
  const { who, end } = p;
  const keys = notice ? [notice] : p.keys;
  const order: [number, number, number][] = [];
  for (let w = 0; w < who.length; w++)
    for (let k = 0; k < keys.length; k++)
      for (let e = 0; e < end.length; e++) order.push([w, k, e]);
  order.sort((a, b) => a[2] - b[2] || a[0] + a[1] - (b[0] + b[1]) || a[1] - b[1]);
  for (const [w, k, e] of order) {
    const text = line([who[w], keys[k], end[e]]);
    if (length(text) <= width) return text;
  }
  const endKeys = end[end.length - 1];
  if (notice) {
    const room = width - length(line(['x', endKeys])) + 1;
    if (room >= 8) {
      const chars = Array.from(notice);
      return line([chars.slice(0, room - 1).join('') + (utf8 ? '…' : '~'), endKeys]);
    }
  }
  const last = line([who[who.length - 1], endKeys]);
  return length(last) <= width ? last : line([endKeys]);
}
