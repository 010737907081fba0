// The attacker for test/attacks.test.ts: one side of remote-help played in-process with the
// project's own handshake code, then ssh2 used directly, doing what a hostile peer would do.
// Loopback only; every wait is bounded.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { BaseAgent, Client, Server, utils, type Connection, type ParsedKey } from 'ssh2';
import { freshKey, type SessionKey } from '../src/net/keys';
import type { Role } from '../src/net/messages';
import { handshakeOn, type Identity, type Timeouts, type Verifying } from '../src/net/verify';
import { dial, type Link } from '../src/net/tcp';

export const TIMEOUTS: Timeouts = { handshakeMs: 10_000, verifyMs: 60_000 };

export function identity(role: Role, key: SessionKey = freshKey(), helper?: Identity['identity']): Identity {
  return { role, key, user: 'mallory', host: 'attacker', caps: 0, ...(helper ? { identity: helper } : {}) };
}

/** Rejects after `ms` unless `p` settles first. */
export function within<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  let timer!: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Runs a node-style callback API and resolves with its error (or null) and value; bounded. */
export function outcome<T = unknown>(what: string, start: (cb: (err?: Error | null, value?: T) => void) => void, ms = 10_000) {
  return within(what, new Promise<{ err: Error | null; value?: T }>((resolve) => {
    start((err, value) => resolve({ err: err ?? null, value }));
  }), ms);
}

export interface Attack {
  link: Link;
  key: SessionKey;
  verifying: Verifying;
  cancel(): void;
}

/** Dials 127.0.0.1:port and runs the honest handshake as `role` up to the code. */
export async function dialHandshake(port: number, role: Role, key: SessionKey = freshKey()): Promise<Attack> {
  const link = await dial({ host: '127.0.0.1', port }, 5000);
  const h = handshakeOn(link, true, identity(role, key), TIMEOUTS);
  const verifying = await within('the attacker\'s handshake to reach the code', h.ready);
  return { link, key, verifying, cancel: h.cancel };
}

/** Runs the handshake as responder on an accepted socket (the attacker waits). */
export async function acceptHandshake(socket: net.Socket, role: Role, key: SessionKey = freshKey(), helper?: Identity['identity']): Promise<Attack> {
  socket.on('error', () => {});
  const link = { stream: socket, remote: 'peer' };
  const h = handshakeOn(link, false, identity(role, key, helper), TIMEOUTS);
  const verifying = await within('the attacker\'s handshake to reach the code', h.ready);
  return { link, key, verifying, cancel: h.cancel };
}

export interface SshLogin {
  username?: string;
  privateKey?: string;
  /** The host key blob the attacker expects (the friend's verified key). */
  hostKey: Buffer;
  authHandler?: unknown;
}

/** An ssh2 client on an already verified stream; resolves on 'ready', rejects with the client's error. */
export function sshClient(stream: Duplex, o: SshLogin, ms = 10_000): Promise<Client> {
  const client = new Client();
  return within('the attacker\'s SSH login', new Promise<Client>((resolve, reject) => {
    client.on('ready', () => resolve(client));
    client.on('error', (err) => {
      reject(err);
      client.end();
    });
    client.on('close', () => reject(new Error('the SSH connection closed during login')));
    client.connect({
      sock: stream as never,
      username: o.username ?? 'mallory',
      privateKey: o.privateKey,
      authHandler: o.authHandler as never,
      strictVendor: false, // let the openssh_* extension requests go out to a non-OpenSSH server
      readyTimeout: ms,
      hostVerifier: (key: Buffer) => key.equals(o.hostKey),
    });
  }), ms + 1000).catch((err) => {
    client.end();
    throw err;
  });
}

/** An agent that offers one public key but signs with another key: a forged proof of possession. */
export class ForgingAgent extends BaseAgent<ParsedKey> {
  /** How many times the server let it get as far as signing (it accepted the claimed key's blob). */
  signed = 0;
  constructor(private readonly claimed: ParsedKey, private readonly signer: ParsedKey) {
    super();
  }
  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.claimed]);
  }
  sign(_pub: ParsedKey, data: Buffer, options: unknown, cb?: (err: Error | undefined, sig?: Buffer) => void): void {
    const done = (typeof options === 'function' ? options : cb) as (err: Error | undefined, sig?: Buffer) => void;
    this.signed++;
    done(undefined, this.signer.sign(data));
  }
}

export function parsed(key: SessionKey): ParsedKey {
  const k = utils.parseKey(key.privateKey);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? k[0] : k;
}

export interface FakeFriend {
  /** Authentication attempts the real helper made (it must make none against a wrong host key). */
  authAttempts: string[];
  closed: Promise<void>;
  close(): void;
}

/** An SSH server posing as the friend on a verified stream, with a host key of its own choosing. */
export function fakeFriendServer(stream: Duplex, hostKey: string): FakeFriend {
  const authAttempts: string[] = [];
  let conn: Connection | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server = new Server({ hostKeys: [hostKey], ident: 'remote-help' }, (client) => {
    conn = client;
    client.on('authentication', (ctx) => {
      authAttempts.push(ctx.method);
      ctx.accept();
    });
    client.on('ready', () => client.on('session', (accept) => {
      const s = accept();
      s.on('pty', (ok) => ok?.());
      s.on('shell', (ok) => ok().write('imposter$ '));
    }));
    client.on('error', () => {});
    client.on('close', () => resolveClosed());
  });
  server.injectSocket(stream as never);
  stream.on('close', () => resolveClosed());
  return {
    authAttempts,
    closed,
    close() {
      conn?.end();
      stream.destroy();
    },
  };
}

/** Opens a raw TCP connection to 127.0.0.1:port; resolves once connected. */
export function rawConnect(port: number, ms = 5000): Promise<net.Socket> {
  return within(`a raw connection to port ${port}`, new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  }), ms);
}

/** Everything a stream sends, as text, growing (a stream the handshake left paused is resumed). */
export function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (d: Buffer | string) => {
    text += typeof d === 'string' ? d : d.toString('latin1');
  });
  stream.resume();
  return () => text;
}

/** What an attacker needs of a real friend's side: its events and its keyboard. */
export interface FriendSide {
  waitEvent(name: string, ms?: number): Promise<unknown>;
  write(data: string): void;
}

/** The attacker as the helper of a real friend waiting on `port` (--reverse): the honest handshake,
 * the friend's y, then an SSH login with the verified key. Everything is closed when `t` ends. */
export async function verifiedLogin(t: { after(fn: () => void): void }, friend: FriendSide, port: number, key: SessionKey = freshKey()) {
  const attack = await dialHandshake(port, 'helper', key);
  t.after(() => attack.link.stream.destroy());
  await friend.waitEvent('code-shown');
  attack.verifying.confirm();
  await friend.waitEvent('peer-confirmed');
  friend.write('y\r');
  const { stream, peer } = await within('the handshake to finish', attack.verifying.finished);
  const client = await sshClient(stream, { privateKey: key.privateKey, hostKey: peer.publicKey });
  t.after(() => client.end());
  return { key, peer, client, stream };
}
