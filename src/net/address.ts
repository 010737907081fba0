// Addresses as people type them: "HOST", "HOST:PORT", "[IPV6]:PORT" or a bare IPv6 address.
// Pure: the screens check what is typed without touching the network.
import * as net from 'node:net';
import { HelpError } from '../errors';

export const DEFAULT_PORT = 2222;

export interface Address {
  host: string;
  port: number;
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
