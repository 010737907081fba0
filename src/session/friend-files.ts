// A copy through the shared shell, on the friend's side (files-script.ts says what is typed). The
// helper's program asks before it types anything; this side answers: no while the friend has the
// keyboard or a program other than the shell has the terminal (`less`, an editor, a `cat` waiting
// for input), and for a fetch only when the friend says yes on the status line. While a copy
// runs, the friend's status line says what is copied and how far it is; the lines the shell
// prints for it are passed to the helper's program (a send does not depend on the helper's copy
// of the screen, which may be cut for a slow link) and recorded in the transcript with the name,
// size and SHA-256 as the friend's own shell printed them. Ctrl-C in the shell stops a copy (the
// shell's commands remove what was half written); taking the keyboard stops a send the same way.
import type { FileToFriend, FileToHelper, ToHelper } from '../net/control';
import type { Clock } from './clock';
import { Lines, parseFileLine } from './files-script';

export interface FriendFilesOptions {
  clock: Clock;
  helperName: string;
  /** null: the shell has the terminal; else the program that has it. */
  foreground(): string | null;
  mayType(): boolean;
  tell(msg: ToHelper): void;
  /** A line in the transcript. */
  mark(text: string): void;
  event(name: string, detail: Record<string, unknown>): void;
  repaint(): void;
  /** Types Ctrl-C into the shell (a send the friend stopped by taking the keyboard). */
  interrupt(): void;
  /** Every byte of the shell's output to the helper (a fetch), or back to normal. */
  lossless(on: boolean): void;
  /** Every copy is refused with this (the policy). */
  refused?: string;
}

export interface FriendFiles {
  /** A copy's request or progress from the helper's program. */
  fromHelper(msg: FileToFriend): void;
  /** The shell's output. */
  output(data: Buffer): void;
  /** The friend took the keyboard. */
  keyboardTaken(): void;
  /** The friend's keys while a question is on the status line: true when they answered it. */
  key(bytes: Buffer): boolean;
  /** What the status line says about a copy (a question first), or null. */
  status(): string | null;
  /** A question waits for the friend's y or n (it goes before any other notice). */
  asking(): boolean;
  stop(): void;
}

/** A copy nobody hears of for this long is over, whatever was said. */
const QUIET_MS = 120_000;
/** How long the friend has to answer a fetch's question. */
const ANSWER_MS = 90_000;
/** How often, and how many times, the shell is looked at before "a program is running". */
const PROMPT_RETRY_MS = 100;
const PROMPT_TRIES = 15;
/** The echo is reported at least every this many bytes during a send. */
const ECHO_EVERY = 4096;

interface Copy {
  id: string;
  way: 'send' | 'fetch';
  name: string;
  percent: number;
  /** Bytes the shell printed since the copy began, and the last count told. */
  echoed: number;
  told: number;
  /** A fetch's size, once the shell said it. */
  size: number | null;
  lines: Lines;
}

export function friendFiles(o: FriendFilesOptions): FriendFiles {
  let copy: Copy | null = null;
  let asking: { id: string; name: string } | null = null;
  let quiet: unknown = null;
  let waitAnswer: unknown = null;
  let flush: unknown = null;
  const answer = (id: string, yes: boolean, text?: string) => o.tell({ t: 'file', id, answer: yes ? 'yes' : 'no', ...(text ? { text } : {}) });
  const tell = (m: Omit<FileToHelper, 't'>) => o.tell({ t: 'file', ...m });

  const awake = () => {
    o.clock.clearTimeout(quiet);
    quiet = o.clock.setTimeout(() => end('no word from the helper\'s program'), QUIET_MS);
  };

  function begin(id: string, way: 'send' | 'fetch', name: string) {
    copy = { id, way, name, percent: 0, echoed: 0, told: 0, size: null, lines: new Lines() };
    awake();
    if (way === 'fetch') o.lossless(true);
    o.mark(way === 'send' ? `the helper starts sending ${name}` : `the friend lets the helper copy ${name} from this computer`);
    o.event('file-start', { id, way, name });
    o.repaint();
  }

  function end(how: string) {
    if (!copy) return;
    o.clock.clearTimeout(quiet);
    if (copy.way === 'fetch') o.lossless(false);
    o.event('file-end', { id: copy.id, way: copy.way, name: copy.name, how });
    copy = null;
    o.repaint();
  }

  /** Why a copy cannot start now, in words for the helper; null when it can. */
  function refusal(): string | null {
    if (o.refused) return o.refused;
    if (copy || asking) return 'Another copy is on its way: wait for it to end.';
    if (!o.mayType()) return 'Your friend has the keyboard: nothing is typed until they give it back.';
    const program = o.foreground();
    if (program) return `${program} is running in the shell: quit it first (a copy needs the shell's prompt).`;
    return null;
  }

  /** A request: refused, asked, or begun. A program in the foreground is given a moment: the
   * commands of the copy before may still be leaving (the shell takes the terminal back then). */
  function request(id: string, way: 'send' | 'fetch', name: string, tries: number) {
    const no = refusal();
    if (no && tries > 1 && !copy && !asking && o.mayType() && !o.refused) return void o.clock.setTimeout(() => request(id, way, name, tries - 1), PROMPT_RETRY_MS);
    if (no) return answer(id, false, no);
    if (way === 'fetch') return ask(id, name);
    answer(id, true);
    begin(id, 'send', name);
  }

  function ask(id: string, name: string) {
    asking = { id, name };
    o.event('file-asked', { id, name });
    o.clock.clearTimeout(waitAnswer);
    waitAnswer = o.clock.setTimeout(() => decide(false, 'Your friend did not answer.'), ANSWER_MS);
    o.repaint();
  }

  function decide(yes: boolean, text?: string) {
    if (!asking) return;
    const { id, name } = asking;
    asking = null;
    o.clock.clearTimeout(waitAnswer);
    o.mark(`the friend ${yes ? 'allows' : 'refuses'} copying ${name} from this computer`);
    answer(id, yes, text ?? (yes ? undefined : 'Your friend said no.'));
    if (yes) begin(id, 'fetch', name);
    else o.repaint();
  }

  function shellLine(c: Copy, line: Buffer) {
    const text = line.toString('latin1');
    const parsed = parseFileLine(text, c.id);
    if (!parsed) return;
    const rest = line.subarray(line.indexOf(`${c.id} `) + c.id.length + 1).toString('utf8').replace(/\r+$/, '');
    tell({ id: c.id, line: rest });
    if (parsed.word === 'begin') c.size = parsed.size;
    else if (parsed.word === 'sent') {
      o.mark(`file sent by the helper: ${parsed.path} (${parsed.size} bytes, SHA-256 ${parsed.sha256})`);
      end('sent');
    } else if (parsed.word === 'end') {
      o.mark(`file copied by the helper from this computer: ${c.name} (${c.size ?? '?'} bytes, SHA-256 ${parsed.sha256})`);
      end('fetched');
    } else if (parsed.word === 'failed' && parsed.why.startsWith('too-big')) {
      // The helper is asked whether to go on: the copy is not over until it says.
    } else if (parsed.word === 'stopped' || parsed.word === 'failed') {
      o.mark(`copy of ${c.name} ${parsed.word === 'stopped' ? 'stopped' : `failed: ${parsed.why}`}`);
      end(parsed.word);
    }
  }

  return {
    fromHelper(msg) {
      if (msg.way && msg.name !== undefined) return request(msg.id, msg.way, msg.name, PROMPT_TRIES);
      if (asking?.id === msg.id && msg.stop) return decide(false, 'The helper gave up.');
      if (copy?.id !== msg.id) return;
      awake();
      if (msg.stop) return end('the helper\'s side ended it');
      if (msg.percent !== undefined && msg.percent !== copy.percent) {
        copy.percent = msg.percent;
        o.repaint();
      }
    },
    output(data) {
      const c = copy;
      if (!c) return;
      c.echoed += data.length;
      if (c.way === 'send' && c.echoed - c.told >= ECHO_EVERY) {
        c.told = c.echoed;
        tell({ id: c.id, echoed: c.echoed });
      }
      if (c.way === 'fetch' && c.size) {
        const percent = Math.min(99, Math.floor((c.echoed * 100) / (c.size * 1.37 + 200)));
        if (percent !== c.percent) {
          c.percent = percent;
          o.repaint();
        }
      }
      c.lines.push(data, (line) => copy === c && shellLine(c, line));
      if (copy === c && c.way === 'send' && c.echoed > c.told && !flush) {
        // The last bytes of a send: told soon, when no more output brings the count up.
        flush = o.clock.setTimeout(() => {
          flush = null;
          if (copy === c && c.echoed > c.told) {
            c.told = c.echoed;
            tell({ id: c.id, echoed: c.echoed });
          }
        }, 20);
      }
    },
    keyboardTaken() {
      if (copy?.way !== 'send') return;
      o.mark(`the friend took the keyboard: the copy of ${copy.name} is stopped`);
      o.interrupt();
    },
    key(bytes) {
      if (!asking || bytes.length !== 1) return false;
      const k = String.fromCharCode(bytes[0]).toLowerCase();
      if (k === 'y') decide(true);
      else if (k === 'n' || bytes[0] === 0x1b) decide(false);
      else return false;
      return true;
    },
    status() {
      // The keys first: a long name is cut at the end of the line, never the way to answer.
      if (asking) return `Press y or n: may ${o.helperName} copy ${asking.name} from this computer?`;
      if (!copy) return null;
      return copy.way === 'send'
        ? `${o.helperName} is sending ${copy.name} (${copy.percent} %); Ctrl-C stops it`
        : `${o.helperName} is copying ${copy.name} from this computer (${copy.percent} %); Ctrl-C stops it`;
    },
    asking: () => asking !== null,
    stop() {
      o.clock.clearTimeout(quiet);
      o.clock.clearTimeout(waitAnswer);
      o.clock.clearTimeout(flush);
      asking = null;
      copy = null;
    },
  };
}
