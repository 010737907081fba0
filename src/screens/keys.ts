// Keys to wizard events for the full-screen views: digits and arrows choose, Enter goes on, Esc
// goes back, q (or Ctrl-C where a text field takes letters) quits. Pure: tested as a table.
import { codesMatch, normalizeCode } from '../net/sas';
import { checkDialAddress, normalizeWord, parseVia, WORD_LENGTH } from '../net/meeting-word';
import { screenFor } from './view';
import { checkName } from '../net/messages';
import { asksName, codeTyped, dials, type WizardEvent, type WizardState } from './wizard';

/** What the full-screen view keeps itself: the text being typed and the highlighted choice. */
export interface FieldState {
  typed: string;
  selected: number;
}

export interface Key {
  /** blessed's key name: 'enter', 'escape', 'tab', 'up', 'backspace', 'C-c', 'a', ...
   * (blessed reports Enter twice, as 'return' and then 'enter': only 'enter' counts). */
  name: string;
  /** The printable character, if the key is one. */
  ch?: string;
}

const MAX_TYPED = 200;

export function keyToEvent(s: WizardState, f: FieldState, k: Key): { event: WizardEvent | null; field: FieldState } {
  const none = { event: null, field: f };
  const ev = (event: WizardEvent, field = f) => ({ event, field });
  // Ctrl-C, and the friend's hotkeys (Ctrl-Alt-C, F12) that step 1 promises, quit every screen.
  if (k.name === 'C-c' || k.name === 'M-C-c' || k.name === 'f12') return ev({ type: 'quit' });
  const hasField = screenFor(s, { addresses: [], listeningPort: null }).input !== undefined;
  if (k.name === 'escape') return ev({ type: 'back' }, { ...f, typed: '' });
  if (hasField) {
    if (k.name === 'backspace') return { event: null, field: { ...f, typed: f.typed.slice(0, -1) } };
    if (k.name === 'enter') return fieldEntered(s, f);
    if (k.name === 'tab' && s.step === 3) return ev({ type: 'toggleReverse' }, { ...f, typed: '' });
    if (k.ch && /^[\x20-\x7e]$/.test(k.ch) && f.typed.length < MAX_TYPED) return { event: null, field: { ...f, typed: f.typed + k.ch } };
    return none;
  }
  if (k.ch === 'q' || k.ch === 'Q') return ev({ type: 'quit' });
  const enter = k.name === 'enter';
  switch (s.step) {
    case 1:
      return enter ? ev({ type: 'continue' }) : none;
    case 2:
      if (k.ch === '1') return ev({ type: 'chooseRole', role: 'friend' });
      if (k.ch === '2') return ev({ type: 'chooseRole', role: 'helper' });
      if (k.name === 'up' || k.name === 'down') return { event: null, field: { ...f, selected: f.selected === 0 ? 1 : 0 } };
      return enter ? ev({ type: 'chooseRole', role: f.selected === 1 ? 'helper' : 'friend' }) : none;
    case 3:
      if (k.name === 'tab') return ev({ type: 'toggleReverse' });
      if (k.ch === 'f' || k.ch === 'F') return ev({ type: 'toggleFirewall' });
      if (k.ch === 'm' || k.ch === 'M') return ev({ type: 'toggleMapPort' });
      if (k.ch === 's' || k.ch === 'S') return ev({ type: 'editVia' });
      if (k.ch === 'n' || k.ch === 'N') return ev({ type: 'editName' });
      return enter && !dials(s) ? ev({ type: 'continue' }) : none;
    case 4:
      return k.ch === 'n' || k.ch === 'N' ? ev({ type: 'startNetwork' }) : none;
    case 5:
    case 6:
      if (s.role !== 'friend') return none;
      if (k.ch === 'v' || k.ch === 'V') return ev({ type: 'toggleTyping' });
      if (k.ch === 'd' || k.ch === 'D') return ev({ type: 'toggleDesktop' });
      if (s.step === 6) return none;
      if (k.ch === 'y' || k.ch === 'Y') return ev({ type: 'pressY' });
      if (k.ch === 'n' || k.ch === 'N') return ev({ type: 'quit' });
      return none;
    default:
      return none;
  }
}

function fieldEntered(s: WizardState, f: FieldState): { event: WizardEvent | null; field: FieldState } {
  const typed = f.typed.trim();
  if (asksName(s)) return { event: nameEvent(typed), field: { ...f, typed: '' } };
  if (s.step === 3 && s.viaEditing) return { event: viaEvent(typed), field: { ...f, typed: '' } };
  if (s.step === 3 && s.wordNeeded) {
    const word = normalizeWord(typed);
    if (word) return { event: { type: 'setWord', word, problem: null }, field: { ...f, typed: '' } };
    return { event: { type: 'setWord', word: '', problem: `"${typed}" is not the word: it has ${WORD_LENGTH} letters and digits.` }, field: f };
  }
  if (s.step === 3) {
    const text = typed || s.address;
    try {
      checkDialAddress(text, s.port);
      return { event: { type: 'setAddress', text, problem: null }, field: { ...f, typed: '' } };
    } catch (err) {
      return { event: { type: 'setAddress', text, problem: (err as Error).message }, field: f };
    }
  }
  if (typed === '') return { event: null, field: f };
  const n = normalizeCode(typed);
  const field = { ...f, typed: '' };
  if ('error' in n) return { event: { type: 'codeTyped', matches: false, invalid: n.error }, field };
  return { event: codeTyped(s, typed, codesMatch), field };
}

/** The name the helper typed on step 3 for friends to see. */
export function nameEvent(typed: string): WizardEvent {
  const text = typed.trim();
  const bad = checkName(text);
  return { type: 'setName', text, problem: bad && `${bad[0].toUpperCase()}${bad.slice(1)}.` };
}

/** The meeting point the helper typed on step 3 ('' turns it off). */
export function viaEvent(typed: string): WizardEvent {
  try {
    if (typed) parseVia(typed);
    return { type: 'setVia', text: typed, problem: null };
  } catch (err) {
    return { type: 'setVia', text: typed, problem: (err as Error).message };
  }
}
