// The shared session on the friend's side (DESIGN.md section 4): one pty, the friend's console
// (friend-console.ts: screen, keyboard, size) and the helper's links. The session machine
// (friend-machine.ts) decides which link is the helper's, whether the helper may type and how
// long a dropped link is waited for; this runner feeds it what happens and does what it decides.
// Output for a helper goes through a HelperFeed (helper-feed.ts), so a slow one never slows the
// shell. Tested with a fake pty, in-memory streams and a fake clock (test/friend-session.test.ts).
import type { Duplex } from 'node:stream';
import { decodeToFriend, encode, LineReader, type ToHelper } from '../net/control';
import { realClock, type Clock } from './clock';
import { initialFriend, stepFriend, type EndReason, type FriendEffect, type FriendEvent, type FriendRules, type FriendState } from './friend-machine';
import { paintedFriendConsole, type FriendConsole, type FriendConsoleKind, type FriendTerminal } from './friend-console';
import { friendFiles } from './friend-files';
import { HelperFeed } from './helper-feed';
import { foregroundProgram } from './processes';
import type { HelperLink, SessionRecord } from './helper-link';
import type { Pty } from './pty';
import type { TermSize } from './size';
import type { HelperPresence } from './status';

export type { EndReason } from './friend-machine';
export type { HelperLink, SessionRecord } from './helper-link';
export type { FriendTerminal } from './friend-console';
export { realClock, type Clock } from './clock';

export interface FriendSessionOptions {
  friend: FriendTerminal;
  /** How the session shows on the friend's terminal: painted with a status line (the default),
   * or as lines (friend-lines.ts). */
  console?: FriendConsoleKind;
  /** Who is helping, as the status line and the transcript name them. */
  helperName: string;
  /** Whether the helper may type when the session starts (the friend's choice on step 6). */
  helperMayType: boolean;
  rules: FriendRules;
  /** Sent to the helper's program on each control channel after the keyboard and the size: the
   * resume secret (for a link that comes back), the shared desktop. */
  greeting?(): ToHelper[];
  /** The keyboard was given to the helper or taken (the shared desktop follows). */
  onKeyboard?(allowed: boolean): void;
  /** Helpers only watch here (the policy): Ctrl-Alt-K says this instead of giving the keyboard. */
  keyboardLocked?: string;
  /** Copies through the shell are refused with this (the policy). */
  filesRefused?: string;
  /** Starts the shared pty at the first shell, and what records the session. */
  start(size: TermSize, term: string | null): { pty: Pty; record: SessionRecord | null };
  /** Most a slow helper may hold of output before it gets a fresh screen instead. */
  helperBacklogBytes?: number;
  clock?: Clock;
  /** The link supervisor: look for the helper coming back until `until`; stop looking. */
  seek?(until: number): void;
  stopSeeking?(): void;
  /** A link that is no longer the helper's: close its connection. */
  drop?(link: number): void;
  /** The session is over: the pty and its processes are gone. `link`: the helper's link then. */
  onEnd(reason: EndReason, detail: string, link: number | null): void;
  /** Things worth a line in the events log: resized, keyboard, helper-lost, helper-back, ... */
  onEvent?(name: string, detail: Record<string, unknown>): void;
}

export interface FriendSession {
  /** A link's shell channel opened (the first, or one coming back). */
  shell(link: number, h: HelperLink): void;
  /** A control channel that opened after the link's shell. */
  control(link: number, channel: Duplex): void;
  /** A link's connection closed (`error` when it broke rather than closed). */
  linkDown(link: number, error: string | null): void;
  /** Tells the friend something on the status line (for a while), and records it. */
  announce(text: string): void;
  friendResized(): void;
  helperResized(link: number, size: TermSize): void;
  readonly state: FriendState;
  /** Ends it from outside: a signal, an unexpected error, the policy's time limit. */
  stop(reason: 'signal' | 'error' | 'time-limit'): void;
  /** The friend ended it another way than the hotkey (the desktop's "End" window): the same. */
  hotkey(): void;
  /** Tells the helper's program something on the live link's control channel. */
  tell(msg: ToHelper): void;
}

interface LinkSide extends HelperLink {
  feed: HelperFeed | null;
}

export function startFriendSession(o: FriendSessionOptions): FriendSession {
  const clock = o.clock ?? realClock;
  const event = (name: string, detail: Record<string, unknown> = {}) => o.onEvent?.(name, detail);
  const links = new Map<number, LinkSide>();
  const timers = new Map<string, unknown>();
  const first = initialFriend(o.helperMayType, o.rules);
  let state: FriendState = first.state;
  let current: LinkSide | null = null;
  let shell: { pty: Pty; record: SessionRecord | null; console: FriendConsole } | null = null;
  let sawOutput = false;

  const setTimer = (name: string, ms: number, fn: () => void) => {
    clearTimer(name);
    timers.set(name, clock.setTimeout(() => (timers.delete(name), fn()), ms));
  };
  const clearTimer = (name: string) => {
    clock.clearTimeout(timers.get(name));
    timers.delete(name);
  };
  const repaint = () => shell?.console.dirty();
  const record = () => shell?.record ?? null;
  const mark = (text: string) => record()?.marker(text);
  const tell = (msg: ToHelper) => {
    const c = current?.control;
    if (c && !c.destroyed) c.write(encode(msg));
  };
  const say = (text: string) => shell?.console.say(text);
  const presence = (): HelperPresence => {
    if (state.kind === 'live') return { kind: 'connected', name: o.helperName, mayType: state.mayType };
    if (state.kind === 'gone') return { kind: 'gone', name: o.helperName, secondsLeft: (state.until - clock.now()) / 1000 };
    return { kind: 'waiting' };
  };

  const files = friendFiles({
    clock,
    helperName: o.helperName,
    foreground: () => (shell ? foregroundProgram(shell.pty.pid) : 'nothing'),
    mayType: () => state.kind === 'live' && state.mayType,
    tell,
    mark: (text) => mark(text),
    event,
    repaint: () => repaint(),
    interrupt: () => shell?.pty.write('\x03'),
    lossless: (on) => current?.feed?.lossless(on),
    refused: o.filesRefused,
  });

  function feed(e: FriendEvent, typed?: Buffer) {
    const r = stepFriend(state, e, o.rules);
    const before = state;
    state = r.state;
    for (const effect of r.effects) perform(effect, typed, before);
  }

  function perform(effect: FriendEffect, typed: Buffer | undefined, before: FriendState) {
    switch (effect.type) {
      case 'start': return start(links.get(effect.link));
      case 'attach': return attach(effect.link, effect.back);
      case 'drop': return drop(effect.link);
      case 'lost':
        mark(`helper disconnected${effect.error ? `: ${effect.error}` : ''}`);
        event('helper-lost', { helper: o.helperName, error: effect.error, ...(effect.until ? { waitMs: o.rules.windowMs } : {}) });
        return shell?.console.countdown(effect.until !== null);
      case 'seek': return o.seek?.(effect.until);
      case 'stopSeeking': return o.stopSeeking?.();
      case 'setTimer': return setTimer(effect.timer, effect.ms, () => feed({ type: 'timer', timer: effect.timer }));
      case 'clearTimer': return clearTimer(effect.timer);
      case 'toShell':
        if (!shell || !typed) return;
        shell.pty.write(typed); // the shell first: the helper waits for the echo
        return shell.record?.helperInput(typed);
      case 'typingRefused':
        return tell({ t: 'note', text: 'Not sent: your friend has the keyboard.' });
      case 'mark': return mark(effect.text);
      case 'keyboard':
        mark(effect.allowed ? 'keyboard given to the helper' : 'keyboard taken by the friend');
        event('keyboard', { helperMayType: effect.allowed });
        tell({ t: 'keyboard', allowed: effect.allowed });
        if (!effect.allowed) files.keyboardTaken();
        o.onKeyboard?.(effect.allowed);
        return repaint();
      case 'resize': return shell?.console.resize();
      case 'end': return finish(effect.reason, effect.detail, before);
    }
  }

  // --- The shared pty ----------------------------------------------------------------------

  function start(first: LinkSide | undefined) {
    const kind = o.console ?? paintedFriendConsole;
    const { pty, record } = o.start(kind.ptySize(o.friend.size(), first?.size ?? null), first?.term ?? null);
    const console = kind.start({
      friend: o.friend,
      pty,
      clock,
      helperSize: () => (state.kind === 'live' ? (links.get(state.link)?.size ?? null) : null),
      status: () => ({ presence: presence(), files: files.status(), asking: files.asking() }),
      onAnnounce: (text) => event('announced', { text }),
      takeKey: (bytes) => files.key(bytes),
      onKeyboardToggle: () => (o.keyboardLocked ? say(o.keyboardLocked) : feed({ type: 'toggleKeyboard' })),
      onHotkey: () => feed({ type: 'hotkey' }),
      onResized: (size) => {
        record?.resize(size);
        event('resized', { ...size });
        tell({ t: 'size', ...size });
      },
    });
    shell = { pty, record, console };
    pty.onData((data) => {
      if (state.kind === 'ended') return;
      sawOutput = true;
      // The helper first: its echo is what a typing helper waits for. The screen is updated in
      // the same turn, so a fresh copy sent later always matches what was forwarded.
      current?.feed?.output(data);
      files.output(data);
      console.write(data);
      record?.output(data);
    });
    pty.onExit((status) => feed({ type: 'shellExited', status }));
    record?.marker(state.kind === 'live' && !state.mayType ? 'helper may not type (view only)' : 'helper may type');
  }

  // --- The helper's links ------------------------------------------------------------------

  function attach(id: number, back: boolean) {
    const l = links.get(id);
    if (!l || !shell) return;
    const { console } = shell;
    current = l;
    console.countdown(false);
    l.feed = new HelperFeed({
      channel: l.channel,
      clock,
      backlog: o.helperBacklogBytes ?? 256 * 1024,
      snapshot: () => console.snapshot(),
      onResync: (skipped) => {
        event('helper-resync', { skipped });
        tell({ t: 'note', text: `Too slow a link: ${skipped} bytes skipped, screen sent fresh.` });
      },
      hold: (on) => (on ? shell?.pty.pause() : shell?.pty.resume()),
    });
    l.channel.on('data', (chunk: Buffer) => feed({ type: 'helperKeys', link: id, at: clock.now() }, chunk));
    if (l.control) listenControl(id, l, l.control);
    mark(back ? `helper reconnected: ${o.helperName}` : `helper connected: ${o.helperName}`);
    event(back ? 'helper-back' : 'helper-joined', { helper: o.helperName });
    if (back) say(`${o.helperName} is back.`);
    console.resize();
    // A helper who comes back gets the screen as it is now. The first one gets nothing extra: the
    // shell has not written anything yet, and its first output is how the helper's program knows
    // the shell is live (helper-session.ts drops keys typed before it).
    if (back || sawOutput) l.feed.sendScreen();
    repaint();
  }

  function listenControl(id: number, l: LinkSide, channel: Duplex) {
    l.feed?.expectAcks();
    const reader = new LineReader(
      (line) => {
        if (current !== l) return;
        const d = decodeToFriend(line);
        if (!d.ok) return event('control-rejected', { reason: d.reason });
        if (d.msg.t === 'bye') feed({ type: 'bye', link: id });
        else if (d.msg.t === 'ack') l.feed?.ack(d.msg.bytes);
        else if (d.msg.t === 'redraw') l.feed?.requestScreen();
        else if (d.msg.t === 'file') files.fromHelper(d.msg);
        else {
          mark(`message from the helper: ${d.msg.text}`);
          event('helper-message', { text: d.msg.text });
          say(`${o.helperName} says: ${d.msg.text}`);
        }
      },
      () => event('control-rejected', { reason: 'line too long' }),
    );
    channel.on('data', (chunk: Buffer) => reader.push(chunk));
    tell({ t: 'keyboard', allowed: state.kind !== 'ended' && state.mayType });
    if (shell) tell({ t: 'size', ...shell.console.size() });
    for (const m of o.greeting?.() ?? []) tell(m);
  }

  function drop(id: number) {
    const l = links.get(id);
    links.delete(id);
    if (current === l) current = null;
    if (l) {
      l.feed?.close();
      l.channel.removeAllListeners('data');
      if (!l.channel.destroyed) l.channel.destroy();
      if (l.control && !l.control.destroyed) l.control.destroy();
    }
    o.drop?.(id);
  }

  function finish(reason: EndReason, detail: string, before: FriendState) {
    // The shell and everything it started die first, whatever fails after.
    shell?.pty.kill();
    shell?.console.stop();
    files.stop();
    for (const name of [...timers.keys()]) clearTimer(name);
    current?.feed?.close();
    current?.channel.removeAllListeners('data');
    o.stopSeeking?.();
    o.onEnd(reason, detail, before.kind === 'live' ? before.link : null);
  }

  for (const effect of first.effects) perform(effect, undefined, state);

  return {
    shell(id, h) {
      const l: LinkSide = { ...h, feed: null };
      links.set(id, l);
      l.channel.on('error', () => {});
      l.control?.on('error', () => {});
      l.channel.on('end', () => feed({ type: 'bye', link: id })); // the helper closed its side on purpose
      feed({ type: 'shell', link: id });
    },
    control(id, channel) {
      const l = links.get(id);
      if (!l || state.kind === 'ended') return void channel.destroy();
      channel.on('error', () => {});
      l.control = channel;
      if (current === l) listenControl(id, l, channel);
    },
    linkDown: (link, error) => feed({ type: 'linkDown', link, error, at: clock.now() }),
    announce(text) {
      if (state.kind === 'ended') return;
      mark(text);
      say(text);
    },
    friendResized: () => shell?.console.resize(),
    helperResized(id, s) {
      const l = links.get(id);
      if (!l) return;
      l.size = s;
      if (current === l) shell?.console.resize();
    },
    get state() {
      return state;
    },
    stop: (reason) => feed({ type: 'stop', reason }),
    hotkey: () => feed({ type: 'hotkey' }),
    tell,
  };
}
