// The only file in src/net that knows what a net.Socket is: listening, dialling, this machine's addresses.
// Everything else gets a plain Duplex stream and a label saying who is on the other end.
import * as net from 'node:net';
import * as os from 'node:os';
import type { Duplex } from 'node:stream';
import { HelpError } from '../errors';
import { formatAddress, type Address } from './address';

export interface Link {
  stream: Duplex;
  remote: string;
}

/** Listens on every address (IPv6 and IPv4) when it can, on IPv4 only when IPv6 is off; on `host`
 * only when one is given (a meeting point's tunnel reaches this machine on loopback). */
export async function listen(port: number, onLink: (link: Link) => void, host?: string): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a peer that resets is that one connection's problem only
    onLink({ stream: socket, remote: formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }) });
  });
  server.on('error', () => {});
  const tryListen = (on: string) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(err);
      server.once('error', onError);
      server.listen({ port, host: on, ipv6Only: false }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    if (host) await tryListen(host);
    else await tryListen('::').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL') return tryListen('0.0.0.0');
      throw err;
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new HelpError('connect', `Port ${port} is already in use on this machine.`,
        'Close the other program using it, or choose another port with --port.');
    if (code === 'EACCES')
      throw new HelpError('connect', `This user may not use port ${port}.`, 'Choose a port above 1023 with --port.');
    throw new HelpError('connect', `Could not wait for connections on port ${port} (${code ?? err}).`,
      'Check the port number and the network, then try again.');
  }
  const bound = (server.address() as net.AddressInfo).port;
  return { port: bound, close: () => server.close() };
}

/** One attempt to open a TCP connection, with a time limit. */
export function dial(addr: Address, timeoutMs: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    const timer = setTimeout(() => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    function fail(err: NodeJS.ErrnoException) {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve({ stream: socket, remote: formatAddress(addr) });
    });
  });
}

/** Plain words for a failed connection attempt. */
export function describeDialError(addr: Address, err: NodeJS.ErrnoException): HelpError {
  if (err instanceof HelpError) return err; // said in plain words already (a meeting point's login)
  const where = formatAddress(addr);
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new HelpError('connect', `The name "${addr.host}" could not be found.`,
        'Check the spelling with your helper, or use the numeric address instead.');
    case 'ECONNREFUSED':
      return new HelpError('connect', `Nothing is waiting at ${where}.`,
        'Ask the other person to start remote-help and wait for you, then try again.');
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new HelpError('connect', `This machine cannot reach ${where}: no network route.`,
        'Check that the network is connected, then try again.');
    case 'EPERM':
    case 'EACCES':
      // What a firewall that filters outgoing connections answers (an iptables OUTPUT DROP).
      return new HelpError('connect', `This computer's firewall does not let remote-help connect out to ${where}.`,
        'Its rules for outgoing connections must allow it: ask your helper (remote-help only ever opens incoming ports).');
    case 'ETIMEDOUT':
      return new HelpError('connect', `${where} did not answer.`,
        'The port may be closed by a firewall, or the address may be wrong. Check both, then try again.');
    default:
      return new HelpError('connect', `Could not connect to ${where} (${err.code ?? err.message}).`,
        'Check the address and the network, then try again.');
  }
}

/** This machine's addresses to tell the other person: no loopback or link-local unless nothing else. */
export function localAddresses(): string[] {
  const all: { address: string; family: string; internal: boolean }[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) all.push(a);
  const useful = all.filter((a) => !a.internal && !a.address.toLowerCase().startsWith('fe80'));
  const pick = useful.length > 0 ? useful : all;
  return pick.sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1)).map((a) => a.address);
}

/** Joins `stream` to a new connection to this machine's loopback `port` (the shared desktop's
 * x11vnc, for the SSH channel the helper opened): each closes when the other does. */
export function pipeToLoopback(stream: Duplex, port: number): void {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  socket.on('error', () => stream.destroy());
  stream.on('error', () => socket.destroy());
  stream.pipe(socket).pipe(stream);
  socket.on('close', () => stream.destroy());
  stream.on('close', () => socket.destroy());
}
