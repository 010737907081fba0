// The friend's shared desktop in the session (src/session/desktop.ts does x11vnc and the "End"
// window): started with the shared shell when the friend chose it, told to the helper's program on
// each control channel, view-only whenever the helper may not type, and stopped on every ending.
import type { EventLog } from '../events';
import type { ToHelper } from '../net/control';
import { endControl, shareDesktop, type DesktopFound, type SharedDesktop } from '../session/desktop';
import type { Teardown } from '../teardown';

export interface FriendDesktop {
  /** The loopback port the friend's SSH server may forward to, while the screen is shared. */
  port(): number | null;
  /** What each new control channel hears about the desktop. */
  greeting(): ToHelper[];
  /** At the first shell: share the screen if the friend chose it. */
  start(): void;
  keyboard(allowed: boolean): void;
  /** Stops sharing; says so when it was shared. */
  stop(): string;
}

export function friendDesktop(o: {
  found: DesktopFound;
  want: boolean;
  helperName: string;
  helperMayType: boolean;
  events: EventLog;
  teardown: Teardown;
  /** A line in the transcript. */
  mark(text: string): void;
  /** A line on the friend's status line (and in the transcript). */
  say(text: string): void;
  tell(msg: ToHelper): void;
  /** The friend ended it all from the desktop. */
  end(): void;
}): FriendDesktop {
  let shared: SharedDesktop | null = null;
  let closeWindow: (() => void) | null = null;
  let mayType = o.helperMayType;
  let why = '';
  let stopped = false;

  const off = (text: string) => {
    why = text;
    o.tell({ t: 'desktop', port: null, text });
  };
  let gone: Promise<void> = Promise.resolve();
  function stop(): string {
    stopped = true;
    closeWindow?.();
    closeWindow = null;
    if (!shared) return '';
    gone = shared.stop();
    shared = null;
    o.mark('desktop sharing ended');
    o.events.emit('desktop', { shared: false });
    return 'Your screen is no longer shared.';
  }
  // The teardown waits until x11vnc is gone.
  o.teardown.add('shared desktop', () => (stop(), gone));

  return {
    port: () => shared?.port ?? null,
    greeting: () => (shared ? [{ t: 'desktop', port: shared.port, password: shared.password }] : why ? [{ t: 'desktop', port: null, text: why }] : []),
    start() {
      if (!o.want) return;
      const d = o.found;
      if (d.kind !== 'x11') return off(d.why);
      void shareDesktop(d, { viewOnly: !mayType }).then((s) => {
        if (typeof s === 'string') {
          o.events.emit('desktop', { shared: false, error: s });
          o.say(s);
          return off(s);
        }
        if (stopped) return s.stop();
        shared = s;
        void s.viewOnly(!mayType);
        s.onStopped((text) => {
          shared = null;
          o.events.emit('desktop', { shared: false, error: text });
          o.say(text);
          off(text);
        });
        const window = endControl(d, o.helperName, () => o.end());
        if (typeof window === 'string') o.say(window);
        else closeWindow = window;
        o.mark(`desktop shared: ${d.display}${mayType ? '' : ' (view only)'}`);
        o.events.emit('desktop', { shared: true, display: d.display, port: s.port, pid: s.pid, viewOnly: !mayType, endWindow: typeof window !== 'string' });
        o.say(`Your screen is shared with ${o.helperName}. The "End remote help" window on it ends everything.`);
        o.tell({ t: 'desktop', port: s.port, password: s.password });
      });
    },
    keyboard(allowed) {
      mayType = allowed;
      if (!shared) return;
      const s = shared;
      void s.viewOnly(!allowed).then(() => shared === s && o.events.emit('desktop', { shared: true, viewOnly: !allowed }));
      o.mark(allowed ? 'desktop: the helper may use the pointer and keys' : 'desktop: view only');
    },
    stop,
  };
}
