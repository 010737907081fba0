// The only file in src/net that knows what a net.Socket is: listening, dialling, addresses.
// Everything else gets a plain Duplex stream and a label saying who is on the other end.
import * as net from 'node:net';
import * as os from 'node:os';
import type { Duplex } from 'node:stream';
import { HelpError } from '../errors';

export const DEFAULT_PORT = 2222;

export interface Address {
  host: string;
  port: number;
}

export interface Link {
  stream: Duplex;
  remote: string;
}

/** Parses "HOST", "HOST:PORT", "[IPV6]:PORT" or a bare IPv6 address. */
export function parseAddress(text: string, defaultPort = DEFAULT_PORT): Address {
  const s = text.trim();
  const bad = (why: string) =>
    new HelpError('usage', `"${text}" is not an address remote-help can use: ${why}.`,
      'Type it like 192.0.2.10, 192.0.2.10:2222, [2001:db8::1]:2222 or a host name.');
  if (s === '') throw bad('it is empty');
  let host = s;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracket) {
    host = bracket[1];
    portText = bracket[2];
    if (net.isIPv6(host) === false) throw bad('the part in brackets is not an IPv6 address');
  } else if (net.isIPv6(s)) {
    host = s;
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw bad('it has characters no address or host name has');
  }
  const port = portText === undefined ? defaultPort : parsePort(portText);
  if (port === null) throw bad(`the port "${portText}" is not a number from 1 to 65535`);
  return { host, port };
}

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

export function formatAddress(a: Address): string {
  return net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Listens on every address (IPv6 and IPv4) when it can, on IPv4 only when IPv6 is off. */
export async function listen(port: number, onLink: (link: Link) => void): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a peer that resets is that one connection's problem only
    onLink({ stream: socket, remote: formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }) });
  });
  server.on('error', () => {});
  const tryListen = (host: string) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(err);
      server.once('error', onError);
      server.listen({ port, host, ipv6Only: false }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await tryListen('::').catch((err: NodeJS.ErrnoException) => {
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
