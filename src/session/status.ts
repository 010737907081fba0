// The friend's status line (DESIGN.md section 4): always on the last row of the friend's screen,
// painted by us, so nothing running in the shared shell can hide or fake it. It says that a
// session is on, who the helper is, whether the helper may type, and how to end it. Pure: the
// session passes in what is true now and the width; we pick the longest wording that fits.

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

function clock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Wordings from the longest to the shortest; the first that fits is used. */
function variants(i: StatusInput): string[][] {
  const end = ['End: Ctrl-Alt-C or F12', 'End: Ctrl-Alt-C/F12', 'End: C-A-C/F12'];
  const p = i.presence;
  let who: string[];
  let keys: string[];
  if (p.kind === 'connected' && p.mayType) {
    who = [`${p.name} is helping and may type`, `${p.name} may type`, 'helper may type'];
    keys = ['Ctrl-Alt-K: take the keyboard', 'Ctrl-Alt-K: take keyboard', 'C-A-K: take kbd'];
  } else if (p.kind === 'connected') {
    who = [`${p.name} is watching (cannot type)`, `${p.name} is watching`, 'helper watching'];
    keys = ['Ctrl-Alt-K: let them type', 'Ctrl-Alt-K: let type', 'C-A-K: let type'];
  } else if (p.kind === 'gone') {
    const left = clock(p.secondsLeft);
    who = [`${p.name}'s connection dropped; waiting ${left} for them`, `helper gone; waiting ${left}`, `gone ${left}`];
    keys = ['', '', ''];
  } else {
    who = ['waiting for your helper', 'waiting', 'waiting'];
    keys = ['', '', ''];
  }
  const out: string[][] = [];
  const notice = i.notice;
  for (let level = 0; level < 3; level++) {
    const parts = ['remote-help', who[level]];
    if (notice) parts.push(notice);
    else if (keys[level]) parts.push(keys[level]);
    parts.push(end[level]);
    out.push(parts);
  }
  return out;
}

export function statusText(i: StatusInput): string {
  const sep = i.utf8 ? ' │ ' : ' | ';
  const line = (parts: string[]) => ' ' + parts.join(sep) + ' ';
  const length = (text: string) => Array.from(text).length;
  for (const parts of variants(i)) {
    const text = line(parts);
    if (length(text) <= i.width) return text;
  }
  // A long notice is shortened, never the keys that end the session.
  const endKeys = 'End: C-A-C/F12';
  if (i.notice) {
    const room = i.width - length(line(['', endKeys]));
    if (room >= 8) {
      const chars = Array.from(i.notice);
      return line([chars.slice(0, room - 1).join('') + (i.utf8 ? '…' : '~'), endKeys]);
    }
  }
  return line([endKeys]);
}
