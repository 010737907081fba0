// The helper's escapes, typed at the start of a line as with OpenSSH's escape character (ssh(1),
// ESCAPE CHARACTERS: "recognized only at the beginning of a line"; "~~" sends a literal tilde; a
// tilde followed by any other character sends both):
//   ~.  leave the session        ~m  send the friend a one-line message
//   ~r  ask for a fresh screen   ~?  list these
//   ~s  send a file              ~g  fetch a file or a folder

export interface EscapeState {
  /** nothing typed yet, or the last byte was CR or LF */
  readonly atLineStart: boolean;
  /** a `~` at line start is held until the next byte decides what it is */
  readonly pendingTilde: boolean;
}

export type EscapeCommand = 'leave' | 'message' | 'redraw' | 'help' | 'send' | 'fetch';

export interface EscapeResult {
  state: EscapeState;
  passthrough: Buffer;
  disconnect: boolean;
  /** The escape typed, if any; `rest` is what followed it in the chunk, not yet scanned. */
  command: EscapeCommand | null;
  rest: Buffer;
}

const COMMANDS: Record<number, EscapeCommand> = { 0x2e: 'leave', 0x6d: 'message', 0x72: 'redraw', 0x3f: 'help', 0x73: 'send', 0x67: 'fetch' };
const EMPTY = Buffer.alloc(0);

const TILDE = 0x7e;
const CR = 0x0d;
const LF = 0x0a;
const TILDE_BYTES = Buffer.from([TILDE]);

export function escapeState(): EscapeState {
  return { atLineStart: true, pendingTilde: false };
}

const endsLine = (b: number): boolean => b === CR || b === LF;

function join(parts: Buffer[]): Buffer {
  return parts.length === 1 ? parts[0] : parts.length === 0 ? EMPTY : Buffer.concat(parts);
}

/** Feed one chunk of the helper's input. On an escape, `command` says which, passthrough holds
 * the bytes before the `~` and `rest` the bytes after the escape (for `~.`, disconnect is also
 * true and the caller drops the rest). */
export function scanEscape(state: EscapeState, chunk: Buffer): EscapeResult {
  const n = chunk.length;
  // Fast path for pastes and ordinary typing: no tilde, nothing held.
  if (!state.pendingTilde && chunk.indexOf(TILDE) < 0) {
    const atLineStart = n === 0 ? state.atLineStart : endsLine(chunk[n - 1]);
    return { state: { atLineStart, pendingTilde: false }, passthrough: chunk, disconnect: false, command: null, rest: EMPTY };
  }

  const parts: Buffer[] = [];
  let { atLineStart, pendingTilde } = state;
  let segStart = 0; // start of the run of chunk bytes that pass unchanged
  for (let i = 0; i < n; i++) {
    const b = chunk[i];
    if (pendingTilde) {
      pendingTilde = false;
      const command = COMMANDS[b];
      if (command) {
        return { state: { atLineStart: false, pendingTilde: false }, passthrough: join(parts), disconnect: command === 'leave', command, rest: chunk.subarray(i + 1) };
      }
      parts.push(TILDE_BYTES); // the held tilde goes out; `~~` sends just that one
      segStart = b === TILDE ? i + 1 : i;
      if (b === TILDE) {
        atLineStart = false;
        continue;
      }
    } else if (b === TILDE && atLineStart) {
      if (i > segStart) parts.push(chunk.subarray(segStart, i));
      pendingTilde = true;
      segStart = i + 1;
      continue;
    }
    atLineStart = endsLine(b);
  }
  if (segStart < n) parts.push(segStart === 0 ? chunk : chunk.subarray(segStart));
  return { state: { atLineStart, pendingTilde }, passthrough: join(parts), disconnect: false, command: null, rest: EMPTY };
}
