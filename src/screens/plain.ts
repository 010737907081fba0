// The --plain line mode: numbered prompts, one per step, one line of input at a time. It serves
// dumb terminals, screen readers and braille displays, and drives the same wizard as the screens.
import type { Readable, Writable } from 'node:stream';
import { codesMatch, normalizeCode } from '../net/sas';
import { checkDialAddress, normalizeWord, WORD_LENGTH } from '../net/meeting-word';
import { screenFor, type Screen, type ViewContext } from './view';
import { nameEvent, viaEvent } from './keys';
import { asksName, codeTyped, dials, type WizardEvent, type WizardState } from './wizard';

/** The terminal's width when the output is one, else 80. */
export function columns(output: Writable): number {
  const c = (output as Writable & { columns?: number }).columns;
  return typeof c === 'number' && c > 0 ? c : 80;
}

export interface WizardUI {
  render(state: WizardState): void;
  /** Stops reading input: the session takes the keyboard from here on. */
  stop(): void;
}

export function plainUI(o: {
  input: Readable;
  output: Writable;
  context: () => ViewContext;
  dispatch: (e: WizardEvent) => void;
}): WizardUI {
  let state: WizardState | null = null;
  let last = '';
  let pending = '';
  let stopped = false;

  const onData = (chunk: Buffer | string) => {
    pending += chunk.toString();
    let i: number;
    while (!stopped && (i = pending.search(/[\r\n]/)) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1).replace(/^\n/, '');
      if (state) {
        const e = lineToEvent(state, line.trim());
        if (e) o.dispatch(e);
      }
    }
    // A line is never longer than an address or a code; do not hold unbounded input.
    if (pending.length > 4096) pending = '';
  };
  o.input.on('data', onData);
  o.input.resume();

  return {
    render(s) {
      state = s;
      const screen = screenFor(s, o.context());
      const text = formatPlain(screen, s.ended !== null, columns(o.output));
      if (text === last) return;
      last = text;
      o.output.write(text);
    },
    stop() {
      stopped = true;
      o.input.off('data', onData);
      o.input.pause();
    },
  };
}

/** Line mode has no Esc, Tab or Ctrl-C keys of its own: each is a letter and Enter. */
const PLAIN_KEYS: [RegExp, string][] = [
  [/Esc: /g, 'b: '],
  [/Tab: /g, 'r: '],
  [/Ctrl-C: quit/g, 'q: quit'],
  [/Enter: go on {3}/g, ''],
  [/1, 2, Up, Down: choose/g, '1 or 2: choose'],
];

/** A screen as plain lines: the line mode, and what stays on the terminal after the full screens. */
export function formatPlain(s: Screen, ended: boolean, width = 80): string {
  const head = ended ? `== ${s.title} ==` : `== Step ${s.step} of 7: ${s.title} ==`;
  const keys = PLAIN_KEYS.reduce((k, [from, to]) => k.replace(from, to), s.keys);
  const body = s.spelled ? [...s.lines.slice(0, s.spelled.at + 1), ...s.spelled.lines, ...s.lines.slice(s.spelled.at + 1)] : s.lines;
  const lines = [...(s.choices ?? []), ...body].flatMap((l) => wrap(l, width));
  return ['', head, ...lines, ...(keys ? [`[${keys}]`] : []), ''].join('\n') + '\n';
}

/** Breaks a line between words so the terminal does not break it inside one; a word longer than
 * the width (a file name) keeps a line of its own. */
export function wrap(line: string, width: number): string[] {
  if (line.length < width || width < 20) return [line];
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    if (cur && cur.length + 1 + word.length >= width) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}

/** Maps one typed line to a wizard event, given the screen it was typed on. */
export function lineToEvent(s: WizardState, line: string): WizardEvent | null {
  const word = line.toLowerCase();
  if (word === 'q' || word === 'quit') return { type: 'quit' };
  switch (s.step) {
    case 1:
      return { type: 'continue' };
    case 2:
      if (word === '1') return { type: 'chooseRole', role: 'friend' };
      if (word === '2') return { type: 'chooseRole', role: 'helper' };
      if (word === 'b') return { type: 'back' };
      return null;
    case 3:
      if (asksName(s)) return word === 'b' ? { type: 'back' } : nameEvent(line);
      if (s.viaEditing) return word === 'b' ? { type: 'back' } : viaEvent(line);
      if (word === 'b') return { type: 'back' };
      if (word === 'r') return { type: 'toggleReverse' };
      if (word === 's' && s.role === 'helper') return { type: 'editVia' };
      if (word === 'n' && s.role === 'helper') return { type: 'editName' };
      if (word === 'f' && !dials(s)) return { type: 'toggleFirewall' };
      if (word === 'm' && !dials(s)) return { type: 'toggleMapPort' };
      if (!dials(s)) return { type: 'continue' };
      if (s.wordNeeded) {
        const w = normalizeWord(line);
        return w ? { type: 'setWord', word: w, problem: null } : { type: 'setWord', word: '', problem: `"${line}" is not the word: it has ${WORD_LENGTH} letters and digits.` };
      }
      return addressEvent(line || s.address, s.port);
    case 4:
      if (word === 'n') return { type: 'startNetwork' };
      return word === 'b' ? { type: 'back' } : null;
    case 5:
      if (s.role === 'friend') {
        if (word === 'y' || word === 'yes') return { type: 'pressY' };
        if (word === 'v') return { type: 'toggleTyping' };
        if (word === 'd') return { type: 'toggleDesktop' };
        if (word === 'n' || word === 'no') return { type: 'quit' };
        return null;
      }
      if (word === 'b') return { type: 'back' };
      if (line === '') return null;
      {
        const n = normalizeCode(line);
        if ('error' in n) return { type: 'codeTyped', matches: false, invalid: n.error };
        return codeTyped(s, line, codesMatch);
      }
    default:
      return null;
  }
}

function addressEvent(text: string, port: number): WizardEvent {
  try {
    checkDialAddress(text, port);
    return { type: 'setAddress', text, problem: null };
  } catch (err) {
    return { type: 'setAddress', text, problem: (err as Error).message };
  }
}
