// The friend's SSH server (ssh2) on the already verified stream. It accepts only the helper key
// verified with the code, and exactly one interactive session; everything else is refused and
// reported (DESIGN.md section 3, "What the friend's SSH server allows").
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { Server, type Connection, type ServerChannel } from 'ssh2';
import { cleanText, CONTROL_SUBSYSTEM } from './control';
import { linger } from './goodbye';
import { parsePublicBlob } from './keys';
import { pipeToLoopback } from './tcp';
import type { TermSize } from '../shared';


export interface FriendServerHooks {
  /** Something the helper asked for and did not get, in plain words (e.g. "run a command: ls"). */
  onRefused(what: string, detail: Record<string, unknown>): void;
  /** The one shared shell channel, with the helper's terminal size and type if it sent a pty request. */
  onShell(channel: ServerChannel, size: TermSize | null, term: string | null): void;
  onResize(size: TermSize): void;
  /** The helper program's control channel (control.ts), at most one per connection. */
  onControl?(channel: ServerChannel): void;
  /** The shared desktop's loopback port while the friend shares the screen, else null: the one
   * forward (direct-tcpip to 127.0.0.1:port) this server allows. */
  desktopPort?(): number | null;
  /** The SSH connection ended; `error` says why when it was not a clean close. */
  onClose(error: string | null): void;
}

/** Text the helper chose, as the friend reads it: no control, C1 or bidi characters, short. */
const said = (text: unknown) => cleanText(String(text), 80);
/** The same for the events log (JSON keeps it from reaching a terminal): bounded only. */
const logged = (text: unknown) => String(text).slice(0, 1000);

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ssh2 never answers a client's CHANNEL_CLOSE on a session channel that got no stream (every
// request on it refused) and keeps its number: OpenSSH's client then waits forever after a refused
// exec or sftp, and each such channel stays allocated. Answer the close and free the number.
function closeBareSession(client: Connection, session: unknown): void {
  const s = session as { _channel?: unknown; _chanInfo?: { incoming: { id: number }; outgoing: { id: number } } };
  const c = client as unknown as { _protocol?: { channelClose(id: number): void }; _chanMgr?: { remove(id: number): void } };
  if (s._channel || !s._chanInfo || !c._protocol) return;
  try {
    c._chanMgr?.remove(s._chanInfo.incoming.id);
    c._protocol.channelClose(s._chanInfo.outgoing.id);
  } catch {
    // the connection is already going away
  }
}

export interface FriendServer {
  /** Closes the connection now. */
  close(): void;
  /** Closes it without losing last words (goodbye.ts): `theyCloseFirst` when ours are the last. */
  end(theyCloseFirst: boolean): Promise<void>;
}

export function serveFriend(stream: Duplex, hostKey: string, helperKey: Buffer, hooks: FriendServerHooks): FriendServer {
  const pinned = parsePublicBlob(helperKey);
  let conn: Connection | null = null;
  let shellTaken = false;
  let controlTaken = false;
  let closed = false;
  // Keepalives notice a link that died without a word (a cable pulled): about 15 s.
  const server = new Server({ hostKeys: [hostKey], ident: 'remote-help', keepaliveInterval: 5000, keepaliveCountMax: 3 } as never, (client) => {
    conn = client;
    client.on('authentication', (ctx) => {
      // Only the key verified with the spoken code; never passwords or other methods.
      if (ctx.method !== 'publickey' || !pinned) return ctx.reject(['publickey']);
      if (ctx.key.algo !== 'ssh-ed25519' || !sameKey(ctx.key.data, helperKey)) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob) {
        if (pinned.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept, reject) => {
        // The helper's program opens the control channel first, then the shell; after the shell,
        // no more sessions.
        if (shellTaken) {
          hooks.onRefused('open a second session', { request: 'session' });
          return reject();
        }
        const session = accept();
        session.on('close', () => closeBareSession(client, session));
        let size: TermSize | null = null;
        let term: string | null = null;
        session.on('pty', (ok, _no, info) => {
          size = { cols: info.cols, rows: info.rows };
          term = info.term;
          ok?.();
        });
        session.on('window-change', (ok, _no, info) => {
          ok?.();
          hooks.onResize({ cols: info.cols, rows: info.rows });
        });
        session.on('shell', (ok, no) => {
          if (shellTaken) {
            hooks.onRefused('start a second shell', { request: 'shell' });
            return no?.();
          }
          // ssh2 gives no channel for a session that already has one (the control channel).
          const channel = ok();
          if (!channel) return hooks.onRefused('start a shell on a channel already in use', { request: 'shell' });
          shellTaken = true;
          hooks.onShell(channel, size, term);
        });
        session.on('exec', (_ok, no, info) => {
          hooks.onRefused(`run a command (${said(info.command)})`, { request: 'exec', command: logged(info.command) });
          no?.();
        });
        session.on('sftp', (_ok, no) => {
          hooks.onRefused('copy files (sftp)', { request: 'subsystem', name: 'sftp' });
          no?.();
        });
        session.on('subsystem', (ok, no, info) => {
          const channel = info.name === CONTROL_SUBSYSTEM && !controlTaken && hooks.onControl ? ok() : undefined;
          if (channel) {
            controlTaken = true;
            return hooks.onControl!(channel);
          }
          hooks.onRefused(`start the "${said(info.name)}" subsystem`, { request: 'subsystem', name: logged(info.name) });
          no?.();
        });
        session.on('env', (_ok, no, info) => {
          hooks.onRefused(`set the variable ${said(info.key)}`, { request: 'env', key: logged(info.key) });
          no?.();
        });
        session.on('auth-agent', (_ok, no) => {
          hooks.onRefused('forward their SSH agent', { request: 'auth-agent' });
          no?.();
        });
        session.on('x11', (_ok, no) => {
          hooks.onRefused('forward X11 windows', { request: 'x11' });
          no?.();
        });
        session.on('signal', (_ok, no, info) => {
          hooks.onRefused(`send the signal ${said(info.name)}`, { request: 'signal', name: logged(info.name) });
          no?.();
        });
      });
      client.on('tcpip', (ok, no, info) => {
        const port = hooks.desktopPort?.() ?? null;
        if (port !== null && info.destIP === '127.0.0.1' && info.destPort === port) return pipeToLoopback(ok(), port);
        hooks.onRefused(`reach ${said(info.destIP)}:${info.destPort} through this machine`,
          { request: 'direct-tcpip', host: logged(info.destIP), port: info.destPort });
        no();
      });
      client.on('openssh.streamlocal', (_ok, no, info) => {
        hooks.onRefused(`reach the socket ${said(info.socketPath)}`, { request: 'direct-streamlocal', path: logged(info.socketPath) });
        no();
      });
      client.on('request', (_ok, no, name, info) => {
        const detail = Object.fromEntries(Object.entries(info as object).map(([k, v]) => [k, typeof v === 'string' ? logged(v) : v]));
        hooks.onRefused(`open a port on this machine (${said(name)})`, { ...detail, request: logged(name) });
        no?.();
      });
    });
    client.on('error', (err) => finish(said(err.message)));
    client.on('close', () => finish(null));
  });
  function finish(error: string | null) {
    if (closed) return;
    closed = true;
    hooks.onClose(error);
  }
  let ending: Promise<void> | null = null;
  server.injectSocket(stream as never);
  // Before a valid SSH greeting ssh2 reports nothing: a peer that sent garbage and went quiet, or
  // half-closed, ends the session here instead of after the shell timeout.
  stream.on('close', () => finish(null));
  stream.on('end', () => {
    if (!conn) finish('the other side closed the connection before SSH started');
  });
  return {
    close() {
      if (conn) conn.end();
      stream.destroy();
    },
    end: (theyCloseFirst) => (ending ??= linger(stream, () => (conn ? conn.end() : stream.end()), theyCloseFirst)),
  };
}
