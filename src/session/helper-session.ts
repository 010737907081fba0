// The helper's side of the shared shell: the helper's keyboard goes to the friend's pty over the
// SSH channel, its output comes back. Which link is live and how long a dropped one is waited for
// are decided by the session machine (helper-machine.ts); meanwhile the helper's keys go nowhere.
// Escapes at the start of a line (escape.ts): ~. leaves, ~m sends the friend a message, ~r asks
// for a fresh screen, ~s sends a file and ~g fetches one (helper-files.ts), ~? lists them. The shell's output is painted from a virtual screen with the
// helper's status line below it (helper-console.ts); what the friend's program says on the control
// channel (the keyboard taken or given, notes, the pty's size) shows there, never in the output.
import type { Duplex, Readable } from 'node:stream';
import { cleanText, decodeToHelper, encode, LineReader, MAX_MESSAGE, type ToFriend, type ToHelper } from '../net/control';
import { realClock, type Clock } from './clock';
import { escapeState, scanEscape, type EscapeCommand } from './escape';
import { paintedHelperConsole, type HelperConsoleKind, type HelperTerminal } from './helper-console';
import { helperFiles } from './helper-files';
import { askPaths, PromptInput, type Prompt } from './helper-prompt';
import { MESSAGE_PROMPT, type HelperView } from './helper-status';
import { initialHelper, stepHelper, type HelperEffect, type HelperEnd, type HelperEvent, type HelperRules, type HelperState } from './helper-machine';

export type { HelperEnd } from './helper-machine';

/** What one link brings: the shell channel and the control channel (null when not opened). */
export interface HelperConn {
  channel: Duplex;
  control: Duplex | null;
}

export interface HelperSessionOptions {
  input: Readable;
  terminal: HelperTerminal;
  /** How the session shows on the helper's terminal: painted with a status line (the default),
   * or as lines (helper-lines.ts). */
  console?: HelperConsoleKind;
  /** Whom the helper is helping (user@host, as the friend's program said). */
  friendName: string;
  rules: HelperRules;
  /** The link the session starts on. */
  first: { link: number; conn: HelperConn };
  clock?: Clock;
  /** The link supervisor: look for the friend coming back until `until`; stop looking. */
  seek?(until: number): void;
  stopSeeking?(): void;
  /** A link that is no longer the session's: close its connection. */
  drop?(link: number): void;
  /** The friend's program sent the session's resume secret (control.ts "resume"). */
  onResumeSecret?(secret: Buffer): void;
  /** The helper's folder (a fetched file lands there) and the size above which a copy asks. */
  cwd?: string;
  fileLimit?: number;
  /** A copy (~s, ~g) ended: how, for the events log. */
  onCopy?(detail: { way: 'send' | 'fetch'; name: string; ok: boolean; text: string }): void;
  /** The friend shares the screen (a port and password), or stopped (control.ts "desktop"). */
  onDesktop?(msg: Extract<ToHelper, { t: 'desktop' }>): void;
  /** The session is over; `link`: the live link then, to close once our last words are out. */
  onEnd(end: HelperEnd, link: number | null): void;
}

export interface HelperSession {
  /** A link is up with its shell open (one that came back). */
  up(link: number, conn: HelperConn): void;
  down(link: number, error: string | null): void;
  readonly state: HelperState;
  /** Ends it from outside: a signal, or an unexpected error (the helper leaves). */
  stop(reason: 'signal' | 'error'): void;
  /** The helper's terminal was resized. */
  resized(): void;
  /** A line for the helper's status line (for a while). */
  say(text: string): void;
}

const CTRL_C = 0x03;
const ACK_EVERY = 16 * 1024;
/** Room for MAX_MESSAGE characters of up to 4 bytes; the friend's side cuts to MAX_MESSAGE. */
const MAX_MESSAGE_BYTES = 4 * MAX_MESSAGE;
const HELP = 'After Enter: ~. leave ~m message ~s send ~g fetch ~r redraw';

export function startHelperSession(o: HelperSessionOptions): HelperSession {
  const clock = o.clock ?? realClock;
  const links = new Map<number, HelperConn>();
  let esc = escapeState();
  const first = initialHelper(o.first.link);
  let state: HelperState = first.state;
  let conn: HelperConn | null = null;
  let allowed = true;
  let lastTypingNote = -Infinity;
  let timer: unknown = null;
  /** A line being typed on the status line (after ~m, ~s, ~g), or null. */
  let prompt: PromptInput | null = null;

  // Keys typed before the shared shell first speaks were typed at the code screens, not for the
  // shell: they are dropped, so nothing typed before the friend's Y can reach it. (A line left
  // half-typed at a prompt is read and dropped by the caller while SSH starts: helper.ts.)
  let live = false;

  const ended = () => state.kind === 'ended';
  const name = cleanText(o.friendName, 60);
  const view = (): HelperView => {
    if (prompt) return { kind: 'prompt', label: prompt.prompt.label, text: prompt.text() };
    if (state.kind === 'gone') return { kind: 'gone', name, secondsLeft: Math.max(0, Math.ceil((state.until - clock.now()) / 1000)) };
    return { kind: 'live', name, mayType: allowed };
  };
  const screen = (o.console ?? paintedHelperConsole).start({
    terminal: o.terminal,
    clock,
    status: () => ({ view: view(), files: files.status() }),
  });
  const note = (text: string) => {
    if (!ended()) screen.say(text);
  };
  const tell = (msg: ToFriend) => {
    const c = conn?.control;
    if (c && !c.destroyed) c.write(encode(msg));
  };
  const ask = (p: Prompt) => {
    prompt = new PromptInput(p);
    screen.dirty();
  };
  const files = helperFiles({
    clock,
    type(text) {
      if (!conn || !live || ended()) return false;
      if (!allowed) return (note('Not typed: your friend has the keyboard.'), false);
      conn.channel.write(text);
      return true;
    },
    tell,
    say: note,
    ask: (question, then) => ask({ label: [`${question} (y/n) `], yesNo: true, max: 1, done: (a) => then(a?.toString() === 'y') }),
    dirty: () => screen.dirty(),
    ended: (detail) => o.onCopy?.(detail),
    cwd: o.cwd ?? process.cwd(),
    limit: o.fileLimit ?? 100 * 1000 * 1000,
  });

  function feed(e: HelperEvent) {
    const r = stepHelper(state, e, o.rules);
    const before = state;
    state = r.state;
    for (const effect of r.effects) perform(effect, before);
  }

  function perform(effect: HelperEffect, before: HelperState) {
    switch (effect.type) {
      case 'attach': return attach(effect.link, effect.back);
      case 'drop':
        if (conn === links.get(effect.link)) conn = null;
        prompt = null;
        links.delete(effect.link);
        return o.drop?.(effect.link);
      case 'lost':
        if (effect.until === null) return;
        screen.countdown(true);
        // The status line says the rest: reconnecting, the time left, and that Ctrl-C gives up.
        return note(`The connection dropped${effect.error ? ` (${effect.error})` : ''}.`);
      case 'seek': return o.seek?.(effect.until);
      case 'stopSeeking': return o.stopSeeking?.();
      case 'setTimer':
        clock.clearTimeout(timer);
        timer = clock.setTimeout(() => feed({ type: 'timer', timer: 'window' }), effect.ms);
        return;
      case 'clearTimer':
        clock.clearTimeout(timer);
        timer = null;
        return;
      case 'end':
        clock.clearTimeout(timer);
        o.stopSeeking?.();
        if (effect.bye) {
          // Saying goodbye on purpose, so the friend's side does not wait for us to come back.
          tell({ t: 'bye' });
          if (conn && !conn.channel.destroyed) conn.channel.end();
        }
        o.input.off('data', onInput);
        files.stop();
        screen.stop();
        return o.onEnd(effect.end, before.kind === 'live' ? before.link : null);
    }
  }

  function command(c: EscapeCommand) {
    if (c === 'leave') return feed({ type: 'leave' });
    if (c === 'help') return note(HELP);
    if (c === 'redraw') {
      if (!conn?.control) return note('A fresh screen is not available on this link.');
      return tell({ t: 'redraw' });
    }
    if (!conn?.control) return note(c === 'message' ? 'Messages are not available on this link.' : 'Copying files is not available on this link.');
    if (c === 'message') return ask({ label: MESSAGE_PROMPT, max: MAX_MESSAGE_BYTES, done: message });
    if (files.busy()) return note('A copy is on its way already: wait for it to end (Ctrl-C stops it).');
    askPaths(c, ask, (from, to) => (from ? files.start(c, from, to) : note('Nothing copied.')));
  }

  /** The line typed after ~m: sent as the friend's status line message. */
  function message(typed: Buffer | null) {
    const text = typed?.toString('utf8').trim();
    if (typed === null) note('Message cancelled.');
    else if (!text) note('Nothing sent.');
    else {
      tell({ t: 'message', text });
      note('Sent. It is on your friend\'s status line.');
    }
  }

  /** Keys for the prompt on the status line, until it is answered or cancelled. */
  function typePrompt(p: PromptInput, chunk: Buffer) {
    const rest = p.feed(chunk);
    if (rest && prompt === p) prompt = null;
    screen.dirty();
    if (rest?.length && prompt && prompt !== p) typePrompt(prompt, rest);
  }

  function onInput(chunk: Buffer) {
    if (ended()) return;
    if (prompt) return typePrompt(prompt, chunk);
    // During a copy nothing the helper types reaches the shell; Ctrl-C stops the copy.
    if (files.busy()) {
      if (chunk.includes(CTRL_C)) files.interrupt();
      else if (clock.now() - lastTypingNote > 3000) {
        lastTypingNote = clock.now();
        note('A copy is on its way: your keys are held until it ends (Ctrl-C stops it).');
      }
      return;
    }
    // Waiting for the link: Ctrl-C or ~. gives up; nothing else goes anywhere.
    if (state.kind === 'gone' && chunk.includes(CTRL_C)) return feed({ type: 'leave' });
    let rest: Buffer = chunk;
    while (rest.length > 0 && !ended()) {
      const r = scanEscape(esc, rest);
      esc = r.state;
      rest = r.rest;
      if (r.passthrough.length > 0 && conn && live) {
        if (allowed) conn.channel.write(r.passthrough);
        else if (clock.now() - lastTypingNote > 3000) {
          lastTypingNote = clock.now();
          note('Not sent: your friend has the keyboard.');
        }
      }
      if (r.command) {
        command(r.command);
        if (prompt) return typePrompt(prompt, rest);
      }
    }
  }
  o.input.on('data', onInput);
  o.input.resume();

  /** Listens to a link's channels; what arrives counts only while it is the session's link. */
  function listen(id: number, c: HelperConn) {
    // Tell the friend's side how much arrived, every ACK_EVERY bytes: it sends no more than its
    // backlog ahead of that, so a slow link never holds more than that of stale output.
    let received = 0;
    let acked = 0;
    c.channel.on('data', (data: Buffer) => {
      if (conn !== c || ended()) return;
      live = true;
      received += data.length;
      if (received - acked >= ACK_EVERY && c.control && !c.control.destroyed) {
        acked = received;
        c.control.write(encode({ t: 'ack', bytes: received }));
      }
      files.output(data);
      screen.write(data);
    });
    c.channel.on('exit', (code: number | null, signal?: string, _dump?: boolean, msg?: string) =>
      feed({ type: 'shellExit', link: id, exit: { code, signal: signal ?? null, message: msg ?? null } }));
    c.channel.on('close', () => feed({ type: 'shellClosed', link: id }));
    c.channel.on('error', () => {});
    if (!c.control) return;
    let sized = false;
    const reader = new LineReader((line) => {
      const d = decodeToHelper(line);
      if (!d.ok || conn !== c) return;
      if (d.msg.t === 'note') return note(d.msg.text);
      if (d.msg.t === 'size') {
        // The first size on a link may come after output parsed at another size: ask again.
        if (screen.ptySize(d.msg) && !sized && live) tell({ t: 'redraw' });
        sized = true;
        return;
      }
      if (d.msg.t === 'resume') return o.onResumeSecret?.(Buffer.from(d.msg.secret, 'hex'));
      if (d.msg.t === 'desktop') return o.onDesktop?.(d.msg);
      if (d.msg.t === 'file') return files.fromFriend(d.msg);
      if (d.msg.t === 'keyboard' && d.msg.allowed !== allowed) {
        allowed = d.msg.allowed;
        files.keyboard(allowed);
        screen.say(allowed ? 'Your friend gave you the keyboard: you can type again.'
          : 'Your friend took the keyboard: you can watch, but what you type is not sent.');
      }
    }, () => {});
    c.control.on('data', (chunk: Buffer) => reader.push(chunk));
    c.control.on('error', () => {});
  }

  function attach(id: number, back: boolean) {
    conn = links.get(id) ?? null;
    screen.countdown(false);
    if (back) note('Reconnected. This is your friend\'s screen as it is now.');
  }

  const add = (id: number, c: HelperConn) => {
    links.set(id, c);
    listen(id, c);
  };
  add(o.first.link, o.first.conn);
  for (const effect of first.effects) perform(effect, state);

  return {
    up(id, c) {
      add(id, c);
      feed({ type: 'up', link: id });
    },
    down: (link, error) => feed({ type: 'down', link, error, at: clock.now() }),
    get state() {
      return state;
    },
    stop: (reason) => feed({ type: 'stop', reason }),
    resized: () => screen.resized(),
    say: note,
  };
}
