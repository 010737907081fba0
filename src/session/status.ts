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
function parts(i: StatusInput): { who: string[]; keys: string[]; end: string[] } {
  const end = ['End: Ctrl-Alt-C or F12', 'End: Ctrl-Alt-C/F12', 'End: C-A-C/F12'];
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
    who = [`${p.name}'s connection dropped; waiting ${left} for them`, `helper gone; waiting ${left}`, `gone ${left}`];
  } else {
    who = ['remote-help: waiting for your helper', 'waiting for your helper', 'waiting'];
  }
  // A notice (the helper's message, a refused request) takes the place of the key hint.
  if (i.notice) keys = [i.notice];
  return { who, keys, end };
}

export function statusText(i: StatusInput): string {
  const sep = i.utf8 ? ' │ ' : ' | ';
  const line = (xs: string[]) => ' ' + xs.filter(Boolean).join(sep) + ' ';
  const length = (text: string) => Array.from(text).length;
  const { who, keys, end } = parts(i);
  // The most helpful combination that fits. Without a notice, who is helping is kept longest,
  // then the key hint, then the long form of the end keys; with a notice (a message to read),
  // the notice and the end keys are kept and who is helping is said more briefly.
  const order: [number, number, number][] = [];
  for (let w = 0; w < who.length; w++)
    for (let k = 0; k < keys.length; k++)
      for (let e = 0; e < end.length; e++) order.push([w, k, e]);
  // [who, keys, end] steps down: without a notice in that order of importance; with one, the end
  // keys before who.
  if (i.notice) order.sort((p, q) => p[2] - q[2] || p[0] - q[0]);
  for (const [w, k, e] of order) {
    const text = line([who[w], keys[k], end[e]]);
    if (length(text) <= i.width) return text;
  }
  // A long notice is shortened, never the keys that end the session.
  const endKeys = end[end.length - 1];
  if (i.notice) {
    const room = i.width - length(line(['x', endKeys])) + 1;
    if (room >= 8) {
      const chars = Array.from(i.notice);
      return line([chars.slice(0, room - 1).join('') + (i.utf8 ? '…' : '~'), endKeys]);
    }
  }
  return line([who[who.length - 1], endKeys]).length <= i.width ? line([who[who.length - 1], endKeys]) : line([endKeys]);
}
