// The helper's status line: the last row of the helper's screen, painted by the helper's program
// like the friend's (status.ts), so nothing printed on the friend's machine can hide or fake it.
// It says whom the helper is helping, whether what they type is sent (and that the friend can
// take the keyboard), the reconnect countdown, and how to leave; notes from the friend's program
// and the ~m message being typed are shown there too, never mixed into the shell's output. Pure.

import { formatDuration } from '../duration';
import { fitStatus } from './status';

export type HelperView =
  | { kind: 'live'; name: string; mayType: boolean }
  | { kind: 'gone'; name: string; secondsLeft: number }
  /** Typing on the status line (a message after ~m, a copy's paths): the question, what is
   * typed so far. */
  | { kind: 'prompt'; label: string[]; text: string };

const LEAVE = ['Leave: Enter ~.  Help: Enter ~?', 'Leave: Enter ~.'];

export function helperStatusText(v: HelperView, notice: string | null, utf8: boolean, width: number): string {
  if (v.kind === 'prompt') return promptLine(v.label, v.text, utf8, width);
  if (v.kind === 'gone') {
    const left = formatDuration(v.secondsLeft * 1000, 'countdown');
    return fitStatus({
      who: [`The connection to ${v.name} dropped; reconnecting, ${left} left`, `Reconnecting to ${v.name}, ${left} left`, `reconnecting, ${left} left`, `reconnecting ${left}`],
      keys: [''],
      end: ['Ctrl-C gives up', 'Ctrl-C: give up'],
    }, notice, utf8, width);
  }
  return fitStatus({
    who: [`remote-help: helping ${v.name}`, `helping ${v.name}`, 'remote-help', ''],
    keys: v.mayType
      ? ['you may type; your friend can take the keyboard', 'you may type; friend can take it', 'you may type']
      : ['your friend has the keyboard: typing is not sent', 'friend has the keyboard', 'watching only'],
    end: LEAVE,
  }, notice, utf8, width);
}

export const MESSAGE_PROMPT = ['Message to your friend (Enter sends, Esc cancels): ', 'Message (Enter sends, Esc cancels): ', 'Message: '];

/** A prompt with what is typed so far; a long text shows its end, where the typing is. */
function promptLine(prompts: string[], text: string, utf8: boolean, width: number): string {
  const caret = utf8 ? '▏' : '_';
  const chars = Array.from(text);
  for (const p of prompts) {
    const room = width - 2 - p.length - 1;
    if (room < 10 && p !== prompts[prompts.length - 1]) continue;
    const shown = chars.length <= room ? chars.join('') : (utf8 ? '…' : '~') + chars.slice(chars.length - room + 1).join('');
    return ` ${p}${room > 0 ? shown : ''}${caret} `;
  }
  return '';
}
