// The person's own terminal: its size, whether it speaks UTF-8, and raw mode for the session.
// Raw mode registers with the teardown owner, so every exit path gives the terminal back as it was.
import type { ReadStream, WriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import type { Teardown } from '../teardown';
import { isUtf8Locale } from '../session/hotkey';
import { sanitizeSize, type TermSize } from '../session/size';

export interface Terminal {
  input: Readable;
  output: Writable;
  isTTY: boolean;
  utf8: boolean;
  term: string;
  /** The terminal shows colours: TERM is set and not "dumb". */
  colour: boolean;
  size(): TermSize;
  onResize(cb: () => void): void;
  /** Both ends as terminals, for the full-screen views; null when either is not a terminal. */
  tty(): { input: ReadStream; output: WriteStream } | null;
  /** Raw mode until the teardown runs (a no-op when input is not a terminal). */
  raw(teardown: Teardown): void;
}

const FALLBACK: TermSize = { cols: 80, rows: 24 };

export function processTerminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const input = process.stdin as ReadStream;
  const output = process.stdout as WriteStream;
  return {
    input,
    output,
    isTTY: Boolean(input.isTTY),
    utf8: isUtf8Locale(env),
    term: env.TERM && env.TERM !== 'dumb' ? env.TERM : 'xterm',
    colour: Boolean(env.TERM) && env.TERM !== 'dumb',
    size: () => sanitizeSize(output.isTTY ? { cols: output.columns, rows: output.rows } : null, FALLBACK),
    onResize: (cb) => {
      if (output.isTTY) output.on('resize', cb);
    },
    tty: () => (input.isTTY && output.isTTY ? { input, output } : null),
    raw(teardown) {
      if (!input.isTTY) return;
      input.setRawMode(true);
      teardown.add('terminal raw mode', () => void input.setRawMode(false));
    },
  };
}
