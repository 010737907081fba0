// How the wizard's choices become a way to reach the other program (link.ts), and what the
// waiting side does once it listens: the firewall and router (reach.ts), or the meeting point
// (src/net/meeting.ts: the server forwards to this machine's loopback, so nothing is opened here).
import { HelpError } from '../errors';
import type { EventLog } from '../events';
import { DEFAULT_PORT, parseAddress } from '../net/address';
import type { Way } from '../net/link';
import { openMeeting } from '../net/meeting';
import { dialMeeting } from '../net/meeting-dial';
import { isMeetingAddress, normalizeWord, parseMeetingAddress, wordSecrets } from '../net/meeting-word';
import { codeWords } from '../net/sas';
import { localAddresses } from '../net/tcp';
import { dials, type WizardState } from '../screens/wizard';
import type { Teardown } from '../teardown';
import { gettingThrough } from './reach';

/** Dial the address (or log in at the meeting point the friend typed, with the word), or wait. */
export function wayFor(s: WizardState): Way {
  if (!dials(s)) return s.via ? { kind: 'wait', port: 0, host: '127.0.0.1' } : { kind: 'wait', port: s.port };
  if (!isMeetingAddress(s.address)) return { kind: 'dial', address: parseAddress(s.address, s.port || DEFAULT_PORT) };
  const at = parseMeetingAddress(s.address);
  const word = normalizeWord(s.word);
  if (!word) throw new HelpError('usage', 'A meeting point needs the one-time word your helper reads out.', 'Type it on step 3 (or give it with --word).');
  const secrets = wordSecrets(word);
  return { kind: 'dial', address: at, dial: (timeoutMs) => dialMeeting(at, secrets, timeoutMs) };
}

export interface Listening {
  /** The port listened on; with a meeting point, this machine's loopback port the server forwards to. */
  port: number;
  state: WizardState;
  other: string;
  /** "Gives up after ...". */
  giveUp: string;
  events: EventLog;
  teardown: Teardown;
  /** What step 4 says now. */
  say(text: string): void;
  /** The meeting point could not be set up or was lost: the waiting ends with this. */
  fail(e: HelpError): void;
  /** Waiting was cancelled (Esc on step 4): the meeting point is closed at once. */
  signal: AbortSignal;
}

/** The waiting side listens: get the other person through to it. Returns what the last screen
 * adds (filled in as things are opened; the teardown closes them). */
export function whenListening(o: Listening): string[] {
  if (!o.state.via) {
    const waiting = `Waiting for your ${o.other} to connect to ${localAddresses().join(' or ')} port ${o.port}. ${o.giveUp}`;
    return gettingThrough({ port: o.port, openFirewall: o.state.openFirewall, mapPort: o.state.mapPort, other: o.other, events: o.events, teardown: o.teardown,
      say: (extra) => o.say(extra ? `${waiting} ${extra}` : waiting) });
  }
  const notes: string[] = [];
  const sessionPort = o.state.port || DEFAULT_PORT;
  o.say(`Logging in to the meeting point ${o.state.via}...`);
  o.events.emit('meeting', { via: o.state.via, local: o.port });
  // Stopped half-way (the person left, a signal), what was made on the server is undone; the
  // teardown waits for it.
  const stop = new AbortController();
  const pending = openMeeting({ via: o.state.via, port: sessionPort, local: o.port, signal: stop.signal, onLost: (e) => o.fail(e) });
  const close = () => (stop.abort(), pending.then((m) => m.close(), () => {}));
  o.teardown.add('meeting point', close);
  o.signal.addEventListener('abort', () => void close());
  pending.then((m) => {
    if (stop.signal.aborted) return;
    o.events.emit('meeting', { form: m.form, address: m.address, server: `${m.via.host}:${m.via.port}`, whyWord: m.whyWord });
    const at = `Waiting for your ${o.other} at the meeting point ${m.via.host}. ${o.giveUp}`;
    if (m.form === 'public') {
      const [host, port] = [m.via.host, m.address.slice(m.address.lastIndexOf(':') + 1)];
      o.say(`${at} Read this to your ${o.other}: address ${host} port ${port}.`);
      notes.push(`The meeting point ${host} no longer listens on port ${port}.`);
    } else {
      o.say(`${at} Read this to your ${o.other}: address ${m.address}, then the one-time word ${m.word} ` +
        `(say: ${codeWords(m.word!.replace('-', '')).join(' ')}).`);
      notes.push(`The one-time key for your ${o.other} is gone from ${m.via.host}.`);
    }
  }, (err: unknown) => stop.signal.aborted || o.fail(err instanceof HelpError ? err : new HelpError('connect', String((err as Error)?.message ?? err))));
  return notes;
}
