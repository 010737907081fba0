// A line the helper types on the status line, not into the shell: a message to the friend (~m),
// the paths of a copy (~s, ~g), a yes or no. Enter ends it, Esc or Ctrl-C cancels, Backspace takes
// a character back; what follows in the same read goes to the next prompt if the answer opens one
// (pasted answers), else it is dropped. Kept as bytes: a path may be any.

export interface Prompt {
  /** The question's wordings, longest first (the status line picks one that fits). */
  label: string[];
  /** One key answers: y or n. */
  yesNo?: boolean;
  /** Most bytes kept. */
  max: number;
  /** What was typed (for a yes or no: "y" or "n"), or null when cancelled. */
  done(answer: Buffer | null): void;
}

const CR = 0x0d;
const LF = 0x0a;
const ESC = 0x1b;
const CTRL_C = 0x03;
const BACKSPACES = new Set([0x08, 0x7f]);

export class PromptInput {
  private readonly bytes: number[] = [];
  constructor(readonly prompt: Prompt) {}

  /** What is typed so far, as text. */
  text(): string {
    return Buffer.from(this.bytes).toString('utf8');
  }

  /** Feeds keys; once the prompt is over (answered or cancelled), what followed the answer. */
  feed(chunk: Buffer): Buffer | null {
    for (const [i, b] of chunk.entries()) {
      const rest = () => chunk.subarray(i + 1);
      if (this.prompt.yesNo) {
        const k = String.fromCharCode(b).toLowerCase();
        if (k === 'y' || k === 'n') return this.finish(Buffer.from(k), rest());
        if (b === ESC || b === CTRL_C) return this.finish(Buffer.from('n'), rest());
        continue;
      }
      if (b === CR || b === LF) return this.finish(Buffer.from(this.bytes), rest());
      if (b === ESC || b === CTRL_C) return this.finish(null, rest());
      if (BACKSPACES.has(b)) {
        // One character back: its continuation bytes (10xxxxxx), then its first byte.
        while (this.bytes.length > 0 && (this.bytes[this.bytes.length - 1] & 0xc0) === 0x80) this.bytes.pop();
        this.bytes.pop();
      } else if (b >= 0x20 && this.bytes.length < this.prompt.max) this.bytes.push(b);
    }
    return null;
  }

  private finish(answer: Buffer | null, rest: Buffer): Buffer {
    this.prompt.done(answer);
    return rest;
  }
}

const PATH_HINT = '\\n \\xHH for odd bytes';

/** The two paths of a copy, asked one after the other: where from (required) and where to
 * (Enter: the default). `then(null, ...)`: cancelled or nothing typed. */
export function askPaths(way: 'send' | 'fetch', ask: (p: Prompt) => void, then: (from: Buffer | null, to: Buffer | null) => void): void {
  const from = way === 'send' ? 'Send which file from here?' : 'Fetch which file or folder from your friend\'s computer?';
  const to = way === 'send' ? 'To where on their computer? (Enter: their shell\'s folder)' : 'Save where here? (Enter: this folder, same name)';
  ask({ label: [`${from} (${PATH_HINT}) `, `${from} `], max: 4096, done: (a) => {
    if (!a?.length) return then(null, null);
    ask({ label: [`${to} `], max: 4096, done: (b) => (b === null ? then(null, null) : then(typedPath(a), b.length ? typedPath(b) : null)) });
  } });
}

/** A path typed at a prompt, with C-style escapes for what a keyboard cannot type: \n, \t, \\,
 * \xHH and \NNN (octal) stand for those bytes. */
export function typedPath(typed: Buffer): Buffer {
  const s = typed.toString('latin1');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out.push(s.charCodeAt(i));
      continue;
    }
    const n = s[i + 1];
    const hex = /^x([0-9a-fA-F]{2})/.exec(s.slice(i + 1));
    const oct = /^([0-7]{3})/.exec(s.slice(i + 1));
    if (n === 'n') out.push(0x0a);
    else if (n === 't') out.push(0x09);
    else if (n === '\\') out.push(0x5c);
    else if (hex) {
      out.push(parseInt(hex[1], 16));
      i += 2;
    } else if (oct) {
      out.push(parseInt(oct[1], 8) & 0xff);
      i += 2;
    } else {
      out.push(0x5c);
      continue;
    }
    i++;
  }
  return Buffer.from(out);
}
