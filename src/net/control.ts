// The control channel beside the shared shell: an SSH subsystem the helper's program opens after
// the shell, carrying small JSON lines both ways. It never reaches the pty; the friend's program
// only shows what arrives on it (a message on the status line) or acts on it within what the
// friend allowed (a fresh screen, a goodbye).
//
// Wire format: one JSON object per line, at most MAX_LINE bytes before the newline, UTF-8.
//   helper -> friend  {"t":"message","text":"..."}   one line of text for the friend's status line
//                     {"t":"redraw"}                  please send me a fresh copy of the screen
//                     {"t":"bye"}                     I am leaving on purpose (not a lost link)
//                     {"t":"ack","bytes":n}           I have received n bytes of shell output on
//                                                     this connection (flow control: see
//                                                     friend-session.ts)
//                     {"t":"file","id":"...","way":"send"|"fetch","name":"..."}  the helper's
//                                                     program is about to type a copy's commands
//                                                     (files-script.ts); the friend's answers
//                     {"t":"file","id":"...","percent":n}   how far a send is
//                     {"t":"file","id":"...","stop":true}   the helper's side is done with it
//   friend -> helper  {"t":"keyboard","allowed":b}   whether what the helper types reaches the shell
//                     {"t":"note","text":"..."}      something to tell the helper
//                     {"t":"size","cols":c,"rows":r} the shared pty's size (the helper's program
//                                                     parses the shell's output at that size)
//                     {"t":"resume","secret":"..."}  64 hex digits: what a link that comes back
//                                                     proves it knows (returning.ts); it never
//                                                     travels outside SSH
//                     {"t":"desktop","port":p,"password":"..."}  the friend shares the screen:
//                                                     x11vnc on the friend's loopback port p (the
//                                                     only forward the friend's SSH server allows),
//                                                     with this session's VNC password
//                     {"t":"desktop","port":null,"text":"..."}  not (any more), and why
//                     {"t":"file","id":"...","answer":"yes"|"no","text":"..."}  whether the
//                                                     copy may go ahead (a fetch asks the friend)
//                     {"t":"file","id":"...","line":"..."}  a line the friend's shell printed for
//                                                     the copy ("ready ...", "sent ...", "stopped")
//                     {"t":"file","id":"...","echoed":n}  bytes the shell printed since the send
//                                                     began (the helper types no further ahead)
// Anything else (unknown type, bad JSON, a line too long) is an error value, never a throw.

export const CONTROL_SUBSYSTEM = 'remote-help-control@remote-help';
export const MAX_LINE = 1024;
/** Longest message text shown to the friend, in characters. */
export const MAX_MESSAGE = 200;

export type FileWay = 'send' | 'fetch';
/** A copy's request, progress or end, from the helper's program. */
export type FileToFriend = { t: 'file'; id: string; way?: FileWay; name?: string; percent?: number; stop?: boolean };
/** The friend's answer, a line its shell printed, or how far the shell has echoed. */
export type FileToHelper = { t: 'file'; id: string; answer?: 'yes' | 'no'; text?: string; line?: string; echoed?: number };

export type ToFriend = { t: 'message'; text: string } | { t: 'redraw' } | { t: 'bye' } | { t: 'ack'; bytes: number } | FileToFriend;
export type ToHelper =
  | { t: 'keyboard'; allowed: boolean }
  | { t: 'note'; text: string }
  | { t: 'size'; cols: number; rows: number }
  | { t: 'resume'; secret: string }
  | { t: 'desktop'; port: number; password: string }
  | { t: 'desktop'; port: null; text: string }
  | FileToHelper;

export type Decoded<T> = { ok: true; msg: T } | { ok: false; reason: string };

/** Text safe for one line of someone's terminal: no control characters, bounded length. */
export function cleanText(text: string, max = MAX_MESSAGE): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : chars.slice(0, max - 1).join('') + '…';
}

export function encode(msg: ToFriend | ToHelper): Buffer {
  return Buffer.from(JSON.stringify(msg) + '\n');
}

function parse(line: string): Record<string, unknown> | string {
  if (Buffer.byteLength(line) > MAX_LINE) return 'line too long';
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : 'not an object';
  } catch {
    return 'not JSON';
  }
}

export function decodeToFriend(line: string): Decoded<ToFriend> {
  const v = parse(line);
  if (typeof v === 'string') return { ok: false, reason: v };
  if (v.t === 'message' && typeof v.text === 'string') {
    const text = cleanText(v.text);
    return text ? { ok: true, msg: { t: 'message', text } } : { ok: false, reason: 'empty message' };
  }
  if (v.t === 'redraw') return { ok: true, msg: { t: 'redraw' } };
  if (v.t === 'bye') return { ok: true, msg: { t: 'bye' } };
  if (v.t === 'ack' && isCount(v.bytes)) return { ok: true, msg: { t: 'ack', bytes: v.bytes } };
  if (v.t === 'file' && isId(v.id)) {
    const msg: FileToFriend = { t: 'file', id: v.id };
    if (v.way === 'send' || v.way === 'fetch') msg.way = v.way;
    if (typeof v.name === 'string') msg.name = cleanText(v.name, 120);
    if (isCount(v.percent) && v.percent <= 100) msg.percent = v.percent;
    if (v.stop === true) msg.stop = true;
    return (msg.way === undefined) === (msg.name === undefined) ? { ok: true, msg } : { ok: false, reason: 'a copy request needs its way and name' };
  }
  return { ok: false, reason: `unknown message ${JSON.stringify(String(v.t)).slice(0, 40)}` };
}

export function decodeToHelper(line: string): Decoded<ToHelper> {
  const v = parse(line);
  if (typeof v === 'string') return { ok: false, reason: v };
  if (v.t === 'keyboard' && typeof v.allowed === 'boolean') return { ok: true, msg: { t: 'keyboard', allowed: v.allowed } };
  if (v.t === 'note' && typeof v.text === 'string') return { ok: true, msg: { t: 'note', text: cleanText(v.text, 400) } };
  if (v.t === 'size') {
    const axis = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 2 && n <= 1000;
    return axis(v.cols) && axis(v.rows) ? { ok: true, msg: { t: 'size', cols: v.cols as number, rows: v.rows as number } } : { ok: false, reason: 'bad size' };
  }
  if (v.t === 'resume' && typeof v.secret === 'string' && /^[0-9a-f]{64}$/.test(v.secret)) return { ok: true, msg: { t: 'resume', secret: v.secret } };
  if (v.t === 'desktop' && v.port === null) return { ok: true, msg: { t: 'desktop', port: null, text: cleanText(String(v.text ?? ''), 400) } };
  if (v.t === 'desktop' && typeof v.port === 'number' && Number.isSafeInteger(v.port) && v.port >= 1 && v.port <= 65535 &&
    typeof v.password === 'string' && /^[!-~]{1,8}$/.test(v.password)) return { ok: true, msg: { t: 'desktop', port: v.port, password: v.password } };
  if (v.t === 'file' && isId(v.id)) {
    const msg: FileToHelper = { t: 'file', id: v.id };
    if (v.answer === 'yes' || v.answer === 'no') msg.answer = v.answer;
    if (typeof v.text === 'string') msg.text = cleanText(v.text, 400);
    // A line the shell printed: plain text (a path in it may hold any character but a newline).
    if (typeof v.line === 'string') msg.line = v.line.replace(/[\n\r]/g, ' ').slice(0, 600);
    if (isCount(v.echoed)) msg.echoed = v.echoed;
    return { ok: true, msg };
  }
  return { ok: false, reason: `unknown message ${JSON.stringify(String(v.t)).slice(0, 40)}` };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
/** A copy's id: a few hex digits (files-script.ts types it into the shell). */
const isId = (id: unknown): id is string => typeof id === 'string' && /^[0-9a-f]{6,16}$/.test(id);

/** Splits a byte stream into lines; a line longer than MAX_LINE is reported once and skipped. */
export class LineReader {
  private buf = '';
  private skipping = false;
  private readonly decoder = new TextDecoder();
  constructor(private readonly onLine: (line: string) => void, private readonly onTooLong: () => void) {}

  push(chunk: Uint8Array): void {
    this.buf += this.decoder.decode(chunk, { stream: true });
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (this.skipping) this.skipping = false;
      else if (line.length > 0) this.onLine(line);
    }
    if (this.buf.length > MAX_LINE) {
      if (!this.skipping) this.onTooLong();
      this.skipping = true;
      this.buf = '';
    }
  }
}
