// The helper's side of the shared shell: the helper's keyboard goes to the friend's pty over the
// SSH channel, its output comes back. The link may drop and come back (attach again); meanwhile
// the helper's keys go nowhere. Escapes at the start of a line (escape.ts): ~. leaves, ~m sends
// the friend a message, ~r asks for a fresh screen, ~? lists them. What the friend's program says
// on the control channel (the keyboard taken or given, notes) is printed as a line of our own.
import type { Duplex, Readable, Writable } from 'node:stream';
import { decodeToHelper, encode, LineReader, MAX_MESSAGE, type ToFriend } from '../net/control';
import { escapeState, scanEscape, type EscapeCommand } from './escape';

export type HelperEnd =
  | { kind: 'left' } // the helper typed ~. (or gave up waiting for the link)
  | { kind: 'exit'; code: number | null; signal: string | null; message: string | null }
  | { kind: 'closed' };

export interface HelperConn {
  channel: Duplex;
  control: Duplex | null;
}

export interface HelperSessionOptions {
  input: Readable;
  output: Writable;
  onEnd(end: HelperEnd): void;
}

export interface HelperSession {
  attach(conn: HelperConn): void;
  /** The link dropped: the session waits for attach() (or ends with closed()). */
  detach(): void;
  /** How the current link ended, if the friend said (an exit status or goodbye). */
  readonly exitInfo: HelperEnd | null;
  note(text: string): void;
  end(end?: HelperEnd): void;
}

const CTRL_C = 0x03;
const ACK_EVERY = 16 * 1024;
const ESC = 0x1b;
const CR = 0x0d;
const BACKSPACES = new Set([0x08, 0x7f]);
/** Room for MAX_MESSAGE characters of up to 4 bytes; the friend's side cuts to MAX_MESSAGE. */
const MAX_MESSAGE_BYTES = 4 * MAX_MESSAGE;
const HELP = 'Escapes at the start of a line: ~. leave   ~m message to your friend   ~r fresh screen   ~~ a tilde';

export function startHelperSession(o: HelperSessionOptions): HelperSession {
  let esc = escapeState();
  let ended = false;
  let conn: HelperConn | null = null;
  let exitInfo: HelperEnd | null = null;
  let allowed = true;
  let lastTypingNote = -Infinity;
  /** The bytes of the line being typed after ~m, or null. */
  let message: number[] | null = null;

  // Keys typed before the shared shell first speaks were typed at the code screens, not for the
  // shell: they are dropped, so nothing typed before the friend's Y can reach it. (A line left
  // half-typed at a prompt is read and dropped by the caller while SSH starts: helper.ts.)
  let live = false;

  const note = (text: string) => {
    if (!ended) o.output.write(`\r\n[remote-help] ${text}\r\n`);
  };
  const tell = (msg: ToFriend) => {
    const c = conn?.control;
    if (c && !c.destroyed) c.write(encode(msg));
  };

  function command(c: EscapeCommand) {
    if (c === 'leave') return finish({ kind: 'left' });
    if (c === 'help') return note(HELP);
    if (c === 'redraw') {
      if (!conn?.control) return note('A fresh screen is not available on this link.');
      return tell({ t: 'redraw' });
    }
    if (!conn?.control) return note('Messages are not available on this link.');
    message = [];
    o.output.write(`\r\n[remote-help] Message to your friend (Enter sends, Esc cancels): `);
  }

  /** Keys typed after ~m, up to Enter (send) or Esc / Ctrl-C (cancel); what follows in the same
   * read is dropped. The line is kept as bytes and decoded as UTF-8 when it is sent. */
  function typeMessage(chunk: Buffer) {
    for (const b of chunk) {
      if (message === null) return;
      if (b === CR || b === 0x0a) {
        const text = Buffer.from(message).toString('utf8').trim();
        message = null;
        if (text) {
          tell({ t: 'message', text });
          note('Sent. It is on your friend\'s status line.');
        } else note('Nothing sent.');
        tell({ t: 'redraw' });
      } else if (b === ESC || b === CTRL_C) {
        message = null;
        note('Message cancelled.');
        tell({ t: 'redraw' });
      } else if (BACKSPACES.has(b)) {
        // One character back: its continuation bytes (10xxxxxx), then its first byte.
        while (message.length > 0 && (message[message.length - 1] & 0xc0) === 0x80) message.pop();
        if (message.pop() !== undefined) o.output.write('\b \b');
      } else if (b >= 0x20 && message.length < MAX_MESSAGE_BYTES) {
        message.push(b);
        o.output.write(Buffer.from([b]));
      }
    }
  }

  const onInput = (chunk: Buffer) => {
    if (ended) return;
    if (message !== null) return typeMessage(chunk);
    if (!conn) {
      // Waiting for the link: Ctrl-C or ~. gives up; nothing else goes anywhere.
      if (chunk.includes(CTRL_C)) return finish({ kind: 'left' });
    }
    let rest: Buffer = chunk;
    while (rest.length > 0 && !ended) {
      const r = scanEscape(esc, rest);
      esc = r.state;
      rest = r.rest;
      if (r.passthrough.length > 0 && conn && live) {
        if (allowed) conn.channel.write(r.passthrough);
        else if (Date.now() - lastTypingNote > 3000) {
          lastTypingNote = Date.now();
          note('Your friend has the keyboard: what you type is not sent. Ask them to press Ctrl-Alt-K.');
        }
      }
      if (r.command) {
        command(r.command);
        if (message !== null) {
          typeMessage(rest);
          return;
        }
      }
    }
  };
  o.input.on('data', onInput);
  o.input.resume();

  function attach(c: HelperConn) {
    if (ended) return;
    conn = c;
    exitInfo = null;
    // Tell the friend's side how much arrived, every ACK_EVERY bytes: it sends no more than its
    // backlog ahead of that, so a slow link never holds more than that of stale output.
    let received = 0;
    let acked = 0;
    c.channel.on('data', (data: Buffer) => {
      if (conn !== c || ended) return;
      live = true;
      received += data.length;
      if (received - acked >= ACK_EVERY && c.control && !c.control.destroyed) {
        acked = received;
        c.control.write(encode({ t: 'ack', bytes: received }));
      }
      o.output.write(data);
    });
    c.channel.on('exit', (code: number | null, signal?: string, _dump?: boolean, msg?: string) => {
      if (conn === c) exitInfo = { kind: 'exit', code, signal: signal ?? null, message: msg ?? null };
    });
    c.channel.on('close', () => {
      if (conn === c && exitInfo) finish(exitInfo);
    });
    c.channel.on('error', () => {});
    if (c.control) {
      const reader = new LineReader((line) => {
        const d = decodeToHelper(line);
        if (!d.ok || conn !== c) return;
        if (d.msg.t === 'note') return note(d.msg.text);
        if (d.msg.t === 'keyboard' && d.msg.allowed !== allowed) {
          allowed = d.msg.allowed;
          note(allowed ? 'Your friend gave you the keyboard: you can type again.'
            : 'Your friend took the keyboard: you can watch, but what you type is not sent.');
        }
      }, () => {});
      c.control.on('data', (chunk: Buffer) => reader.push(chunk));
      c.control.on('error', () => {});
    }
  }

  function finish(end: HelperEnd) {
    if (ended) return;
    if (end.kind === 'left') {
      // Saying goodbye on purpose, so the friend's side does not wait for us to come back.
      tell({ t: 'bye' });
      if (conn && !conn.channel.destroyed) conn.channel.end();
    }
    ended = true;
    o.input.off('data', onInput);
    o.onEnd(end);
  }

  return {
    attach,
    detach() {
      conn = null;
      message = null;
    },
    get exitInfo() {
      return exitInfo;
    },
    note,
    end: (e = { kind: 'left' }) => finish(e),
  };
}
