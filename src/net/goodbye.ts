// How a session's ending reaches the other side. The friend's side says why with an SSH
// exit-signal whose message is one of these (RFC 4254 section 6.10); both programs import this
// one table. Either side then closes with linger(), so those last words are read, not lost.
import type { Duplex } from 'node:stream';

export const GOODBYE = {
  hotkey: 'remote-help: the friend ended the session',
  signal: 'remote-help: the friend\'s program was stopped',
  error: 'remote-help: the friend\'s program ran into a problem',
  'time-limit': 'remote-help: the session reached the friend\'s computer\'s time limit',
} as const;

export type GoodbyeKind = keyof typeof GOODBYE;

export function goodbyeKind(message: string | undefined): GoodbyeKind | null {
  for (const [kind, text] of Object.entries(GOODBYE)) if (message === text) return kind as GoodbyeKind;
  return null;
}

/** How long a closing side waits for the other to close too, after the last sign of life... */
export const LINGER_MS = 2000;
/** ...and at most, however busy the other side is reading what came before our last words. */
export const LINGER_MAX_MS = 30_000;

/**
 * Closes a connection without losing anybody's last words. Closing with bytes of the other side
 * still unread makes the kernel answer with a reset, and a reset throws away whatever the other
 * side had not read yet: a goodbye with it. A proxy in between may do the same once it sees our
 * side close. So the side whose goodbye is the last word waits, reading on, for the other to close
 * first (`theyCloseFirst`), and closes its own side (`end`: SSH's disconnect, then TCP's FIN) only
 * if they have not. It waits while the other side shows signs of life (a slow helper still
 * working through a flood acknowledges what it reads), at most LINGER_MS after the last one and
 * LINGER_MAX_MS in all. The side that heard the other's goodbye closes its side at once. Either
 * way the connection is let go once it has closed.
 */
export function linger(stream: Duplex, end: () => void, theyCloseFirst: boolean, ms = LINGER_MS, maxMs = LINGER_MAX_MS): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  const endQuietly = () => {
    try {
      end();
    } catch {
      // already going away
    }
  };
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(cap);
      stream.off('data', alive);
      stream.destroy();
      resolve();
    };
    const giveUp = () => {
      if (theyCloseFirst) endQuietly();
      done();
    };
    const alive = () => {
      clearTimeout(timer);
      timer = setTimeout(giveUp, ms);
    };
    const cap = setTimeout(giveUp, maxMs);
    alive();
    stream.on('data', alive);
    stream.once('close', done);
    if (!theyCloseFirst) endQuietly();
  });
}
