// The shared session on the friend's side (DESIGN.md section 4): one pty, the friend's keyboard
// and screen, and the helper's link, which may drop and come back.
//
// Rules, each kept here and tested with a fake pty, in-memory streams and a fake clock:
// - The friend's screen is painted from a virtual screen of the pty, with the status line on the
//   last row; the shell's output never reaches the friend's terminal directly.
// - The pty is the smaller of the two terminals on each axis, less the friend's status line.
// - The friend's hotkey is scanned in the raw input before anything reaches the shell; the
//   keyboard key (Ctrl-Alt-K) lets the helper type or stops them. While stopped, nothing the
//   helper types reaches the pty and the helper is told why.
// - A slow helper never slows the shell: output for it goes through a HelperFeed
//   (helper-feed.ts), which drops what the helper cannot take and sends a fresh screen instead.
// - A link that drops without the helper saying goodbye opens the reconnect window: the shell
//   keeps running, the status line counts down, and a helper who comes back within it first gets
//   the current screen, then the live session.
import type { Duplex, Readable, Writable } from 'node:stream';
import { decodeToFriend, encode, LineReader, type ToHelper } from '../net/control';
import { realClock, type Clock } from './clock';
import { HelperFeed } from './helper-feed';
import { flush, hotkeyState, scan, takeKeyboardToggles } from './hotkey';
import type { Pty } from './pty';
import { startPainter } from './painter';
import { VirtualScreen } from './screen';
import { sanitizeSize, sharedSize, type TermSize } from './size';
import { statusText, type HelperPresence } from './status';

export type EndReason = 'hotkey' | 'shell-exited' | 'helper-left' | 'connection-lost' | 'signal' | 'error';

export interface FriendTerminal {
  input: Readable;
  output: Writable;
  size(): TermSize;
  utf8: boolean;
}

/** What the session records; transcript.ts writes it as asciicast. */
export interface SessionRecord {
  output(data: Uint8Array): void;
  helperInput(data: Uint8Array): void;
  resize(size: TermSize): void;
  marker(label: string): void;
}

export { realClock, type Clock } from './clock';

/** One connection of the helper: the shell channel, and its size when it sent one. */
export interface HelperLink {
  name: string;
  channel: Duplex;
  size: TermSize | null;
}

export interface FriendSessionOptions {
  pty: Pty;
  friend: FriendTerminal;
  /** Whether the helper may type when the session starts (the friend's choice on step 6). */
  helperMayType: boolean;
  /** How long a dropped helper may take to come back; 0 ends the session at once. */
  reconnectWindowMs: number;
  /** Most a slow helper may hold of output before it gets a fresh screen instead. */
  helperBacklogBytes?: number;
  record?: SessionRecord | null;
  clock?: Clock;
  onEnd(reason: EndReason, detail: string): void;
  /** Things worth a line in the events log: resized, keyboard, helper-lost, helper-back, ... */
  onEvent?(name: string, detail: Record<string, unknown>): void;
}

export interface FriendSession {
  /** The helper's shell channel: the first one, or one after a reconnect. */
  attach(link: HelperLink): void;
  /** The control channel of the current link (control.ts). */
  control(channel: Duplex): void;
  /** The current link's SSH connection closed (`error` when it broke rather than closed). */
  linkClosed(error: string | null): void;
  /** Tells the friend something on the status line (for a while), and records it. */
  announce(text: string): void;
  friendResized(): void;
  helperResized(size: TermSize): void;
  readonly helperPresent: boolean;
  /** Whether the session waits for a helper to come back. */
  readonly awaitingHelper: boolean;
  end(reason: EndReason, detail?: string): void;
}

/** How long a lone ESC (or another hotkey prefix) is held before it goes to the shell. */
const HOLD_MS = 30;
/** How long a notice or the helper's message stays on the status line. */
const NOTICE_MS = 60_000;
/** At most one "the friend has the keyboard" note to a typing helper in this long. */
const TYPING_NOTE_MS = 3000;
interface Link extends HelperLink {
  feed: HelperFeed;
  bye: boolean;
  closed: boolean;
  controlChannel: Duplex | null;
  lastTypingNote: number;
}

export function startFriendSession(o: FriendSessionOptions): FriendSession {
  const clock = o.clock ?? realClock;
  const backlog = o.helperBacklogBytes ?? 256 * 1024;
  const record = o.record ?? null;
  const event = (name: string, detail: Record<string, unknown> = {}) => o.onEvent?.(name, detail);
  let keys = hotkeyState({ utf8: o.friend.utf8 });
  let holdTimer: unknown = null;
  let ended = false;
  let mayType = o.helperMayType;
  let link: Link | null = null;
  let lastName = 'your helper';
  let helperSize: TermSize | null = null;
  let goneUntil = 0; // when the reconnect window closes; 0 while no helper is gone
  let windowTimer: unknown = null;
  let countdown: unknown = null;
  let notice: { text: string; until: number } | null = null;

  const friendArea = (): TermSize => {
    const t = o.friend.size();
    return { cols: t.cols, rows: Math.max(2, t.rows - 1) }; // the last row is the status line
  };
  let size = sharedSize(friendArea(), null);
  const screen = new VirtualScreen(size);
  const presence = (): HelperPresence => {
    if (link) return { kind: 'connected', name: link.name, mayType };
    if (goneUntil) return { kind: 'gone', name: lastName, secondsLeft: (goneUntil - clock.now()) / 1000 };
    return { kind: 'waiting' };
  };
  const painter = startPainter({
    screen,
    output: o.friend.output,
    termSize: () => o.friend.size(),
    utf8: o.friend.utf8,
    status: () => {
      if (notice && notice.until <= clock.now()) notice = null;
      return statusText({ presence: presence(), notice: notice?.text ?? null, utf8: o.friend.utf8, width: o.friend.size().cols });
    },
  });

  // --- The friend's keyboard -------------------------------------------------------------
  const toPty = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    const t = takeKeyboardToggles(bytes);
    if (t.rest.length > 0) o.pty.write(t.rest);
    if (t.toggles % 2 === 1) setMayType(!mayType);
  };
  const onFriendInput = (chunk: Buffer) => {
    if (ended) return;
    if (holdTimer) clock.clearTimeout(holdTimer);
    holdTimer = null;
    const r = scan(keys, chunk);
    keys = r.state;
    toPty(r.passthrough);
    if (r.kill) return end('hotkey', 'The friend pressed the hotkey.');
    if (keys.held.length > 0) {
      holdTimer = clock.setTimeout(() => {
        holdTimer = null;
        const f = flush(keys);
        keys = f.state;
        toPty(f.passthrough);
      }, HOLD_MS);
    }
  };

  function setMayType(next: boolean) {
    mayType = next;
    const label = next ? 'keyboard given to the helper' : 'keyboard taken by the friend';
    record?.marker(label);
    event('keyboard', { helperMayType: next });
    tell({ t: 'keyboard', allowed: next });
    if (link && next) link.feed.requestScreen(); // notes the helper saw meanwhile are painted over
    painter.dirty();
  }

  // --- The helper's link -----------------------------------------------------------------
  const tell = (msg: ToHelper) => {
    const c = link?.controlChannel;
    if (c && !c.destroyed) c.write(encode(msg));
  };
  const onHelperInput = (l: Link) => (chunk: Buffer) => {
    if (ended || link !== l) return;
    if (!mayType) {
      const now = clock.now();
      if (now - l.lastTypingNote >= TYPING_NOTE_MS) {
        l.lastTypingNote = now;
        tell({ t: 'note', text: 'Your friend has the keyboard: what you type is not sent. Ask them to press Ctrl-Alt-K.' });
      }
      return;
    }
    o.pty.write(chunk); // the shell first: the helper waits for the echo
    record?.helperInput(chunk);
  };

  let sawOutput = false;
  o.pty.onData((data) => {
    if (ended) return;
    sawOutput = true;
    // The helper first: its echo is what a typing helper waits for. The screen is updated in the
    // same turn, so a fresh copy sent later always matches what was forwarded.
    if (link && !link.closed) link.feed.output(data);
    screen.write(data);
    painter.dirty();
    record?.output(data);
  });
  o.pty.onExit((code) => end('shell-exited', `The shell ended (exit status ${code}).`));
  o.friend.input.on('data', onFriendInput);
  o.friend.input.resume();

  function resize() {
    const next = sharedSize(friendArea(), link ? helperSize : null);
    painter.invalidate();
    if (next.cols === size.cols && next.rows === size.rows) return;
    size = next;
    screen.resize(size);
    o.pty.resize(size);
    record?.resize(size);
    event('resized', { ...size });
  }

  function attach(h: HelperLink) {
    if (ended) return h.channel.destroy();
    if (link) drop(link);
    const back = goneUntil !== 0;
    stopWindow();
    const feed = new HelperFeed({
      channel: h.channel,
      clock,
      backlog,
      snapshot: () => screen.snapshot(),
      onResync: (skipped) => {
        event('helper-resync', { skipped });
        tell({ t: 'note', text: `Your link was too slow: ${skipped} bytes of output were skipped; this is a fresh copy of the screen.` });
      },
    });
    const l: Link = { ...h, feed, bye: false, closed: false, controlChannel: null, lastTypingNote: -Infinity };
    link = l;
    lastName = h.name;
    // A size of 0 (a client without a terminal) or nonsense means "unknown" on that axis.
    helperSize = h.size ? sanitizeSize(h.size, friendArea()) : null;
    l.channel.on('data', onHelperInput(l));
    l.channel.on('end', () => (l.bye = true)); // the helper closed its side on purpose
    l.channel.on('close', () => {
      if (l.bye) linkGone(l, null);
    });
    l.channel.on('error', () => {});
    record?.marker(back ? `helper reconnected: ${h.name}` : `helper connected: ${h.name}`);
    event(back ? 'helper-back' : 'helper-joined', { helper: h.name });
    if (back) say(`${h.name} is back.`);
    resize();
    // A helper who comes back gets the screen as it is now. The first one gets nothing extra: the
    // shell has not written anything yet, and its first output is how the helper's program knows
    // the shell is live (helper-session.ts drops keys typed before it).
    if (back || sawOutput) feed.sendScreen();
    painter.dirty();
  }

  function drop(l: Link) {
    l.closed = true;
    l.feed.close();
    l.channel.removeAllListeners('data');
    if (!l.channel.destroyed) l.channel.destroy();
    if (l.controlChannel && !l.controlChannel.destroyed) l.controlChannel.destroy();
  }

  function linkGone(l: Link, error: string | null) {
    if (ended || link !== l) return;
    drop(l);
    link = null;
    if (l.bye) {
      record?.marker('helper left');
      return end('helper-left', 'The helper left the session.');
    }
    record?.marker(`helper disconnected${error ? `: ${error}` : ''}`);
    if (o.reconnectWindowMs <= 0) {
      event('helper-lost', { helper: l.name, error });
      return end('connection-lost', error ?? 'The connection to the helper was lost.');
    }
    goneUntil = clock.now() + o.reconnectWindowMs;
    event('helper-lost', { helper: l.name, error, waitMs: o.reconnectWindowMs });
    windowTimer = clock.setTimeout(() => {
      record?.marker('reconnect window closed');
      end('connection-lost', 'The helper did not come back in time.');
    }, o.reconnectWindowMs);
    countdown = clock.setInterval(() => painter.dirty(), 1000);
    resize(); // the pty follows the friend's terminal alone meanwhile
    painter.dirty();
  }

  function stopWindow() {
    goneUntil = 0;
    if (windowTimer) clock.clearTimeout(windowTimer);
    if (countdown) clock.clearInterval(countdown);
    windowTimer = countdown = null;
  }

  let noticeTimer: unknown = null;
  function say(text: string) {
    notice = { text, until: clock.now() + NOTICE_MS };
    if (noticeTimer) clock.clearTimeout(noticeTimer);
    noticeTimer = clock.setTimeout(() => ((noticeTimer = null), painter.dirty()), NOTICE_MS);
    painter.dirty();
  }

  function end(reason: EndReason, detail = '') {
    if (ended) return;
    ended = true;
    if (holdTimer) clock.clearTimeout(holdTimer);
    if (noticeTimer) clock.clearTimeout(noticeTimer);
    stopWindow();
    o.friend.input.off('data', onFriendInput);
    if (link) {
      link.feed.close();
      link.channel.removeAllListeners('data');
    }
    o.pty.kill();
    painter.stop();
    screen.dispose();
    o.onEnd(reason, detail);
  }

  o.pty.resize(size);
  record?.marker(mayType ? 'helper may type' : 'helper may not type (view only)');
  return {
    attach,
    control(channel) {
      const l = link;
      if (!l || ended) return channel.destroy();
      l.controlChannel = channel;
      l.feed.expectAcks();
      channel.on('error', () => {});
      const reader = new LineReader(
        (line) => {
          if (link !== l) return;
          const d = decodeToFriend(line);
          if (!d.ok) return event('control-rejected', { reason: d.reason });
          if (d.msg.t === 'bye') l.bye = true;
          else if (d.msg.t === 'ack') l.feed.ack(d.msg.bytes);
          else if (d.msg.t === 'redraw') l.feed.requestScreen();
          else {
            record?.marker(`message from the helper: ${d.msg.text}`);
            event('helper-message', { text: d.msg.text });
            say(`${l.name} says: ${d.msg.text}`);
          }
        },
        () => event('control-rejected', { reason: 'line too long' }),
      );
      channel.on('data', (chunk: Buffer) => reader.push(chunk));
      tell({ t: 'keyboard', allowed: mayType });
    },
    linkClosed(error) {
      if (link) linkGone(link, error);
    },
    announce(text) {
      if (ended) return;
      record?.marker(text);
      say(text);
    },
    friendResized: resize,
    helperResized(s) {
      helperSize = sanitizeSize(s, friendArea());
      resize();
    },
    get helperPresent() {
      return link !== null;
    },
    get awaitingHelper() {
      return goneUntil !== 0;
    },
    end,
  };
}
