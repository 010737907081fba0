// What is missing when the other side cannot be reached, in layers, in plain words: no network
// connected (no link up besides loopback), no address on it, no way out (no default route), no
// name server (when a name was given). The facts come from Linux's /sys and /proc and Node's
// list of addresses; deciding what they mean is pure (missingLayer), so tests give it any facts.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { HelpError } from '../errors';
import { formatAddress, type Address } from './address';
import { outputBlockers } from './firewall';
import { describeDialError } from './tcp';

export interface NetFacts {
  /** Interfaces besides loopback: whether each is up (a cable in, a Wi-Fi joined), and Wi-Fi. */
  links: { name: string; up: boolean; wireless: boolean }[];
  /** Addresses that reach beyond this machine: not loopback, not IPv6 link-local. */
  addresses: { family: 'IPv4' | 'IPv6'; address: string; cidr?: string }[];
  /** Whether there is a default route, per family. */
  routes: { v4: boolean; v6: boolean };
  /** Whether /etc/resolv.conf names a name server. */
  nameservers: boolean;
}

export interface Missing {
  layer: 'link' | 'address' | 'route' | 'name';
  text: string;
  /** The one thing to do about it. */
  next: string;
}

const ipv4 = (a: string) => a.split('.').reduce((n, x) => n * 256 + Number(x), 0);

/** Whether an IPv4 address is in a subnet given as "A.B.C.D/N". */
function inSubnet(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  if (!net.isIPv4(base)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

const ARPHRD_LOOPBACK = '772';

export function readNetFacts(): NetFacts {
  const links: NetFacts['links'] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    // no /sys: nothing is known about links
  }
  for (const name of names) {
    const dir = `/sys/class/net/${name}`;
    if (read(`${dir}/type`)?.trim() === ARPHRD_LOOPBACK) continue;
    const state = read(`${dir}/operstate`)?.trim();
    // "unknown" is what tunnels and some drivers say; their carrier tells.
    const up = state === 'up' || (state === 'unknown' && read(`${dir}/carrier`)?.trim() === '1');
    links.push({ name, up, wireless: existsSync(`${dir}/wireless`) || existsSync(`${dir}/phy80211`) });
  }
  const addresses: NetFacts['addresses'] = [];
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? [])
      if (!a.internal && !a.address.toLowerCase().startsWith('fe80')) addresses.push({ family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, cidr: a.cidr ?? undefined });
  const v4 = (read('/proc/net/route') ?? '').split('\n').slice(1).some((l) => l.split(/\s+/)[1] === '00000000');
  const v6 = (read('/proc/net/ipv6_route') ?? '').split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[0] === '0'.repeat(32) && f[1] === '00' && f[9] !== 'lo';
  });
  const nameservers = /^\s*nameserver\s+\S/m.test(read('/etc/resolv.conf') ?? '');
  return { links, addresses, routes: { v4, v6 }, nameservers };
}

/** The lowest layer that is missing for reaching `target`, or null when the network looks fine
 * (then the other side itself is the problem: not started, a wrong address, a firewall). */
export function missingLayer(f: NetFacts, target: Address): Missing | null {
  const host = target.host.toLowerCase();
  if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return null;
  if (!f.links.some((l) => l.up)) {
    const wifi = f.links.some((l) => l.wireless);
    return {
      layer: 'link',
      text: wifi ? 'This computer is not connected to a network: no cable is plugged in and its Wi-Fi is not connected.'
        : 'This computer is not connected to a network.',
      next: wifi ? 'Plug in a network cable if you can (Wi-Fi that needs a password must be joined in the computer\'s own settings).'
        : 'Plug in the network cable.',
    };
  }
  const family = net.isIPv4(target.host) ? 'IPv4' : net.isIPv6(target.host) ? 'IPv6' : null;
  const usable = f.addresses.filter((a) => family === null || a.family === family);
  if (usable.length === 0)
    return {
      layer: 'address',
      text: 'This computer is connected to a network but has no address on it yet.',
      next: 'The network may need to be started (in the recovery menu: "Enable networking").',
    };
  // A helper on this computer's own network needs no way out.
  const onLink = usable.some((a) => a.cidr && net.isIPv4(target.host) && inSubnet(target.host, a.cidr));
  const routed = onLink || (family === 'IPv4' ? f.routes.v4 : family === 'IPv6' ? f.routes.v6 : f.routes.v4 || f.routes.v6);
  if (!routed)
    return {
      layer: 'route',
      text: 'This computer has an address but no way out of its own network (no default route).',
      next: 'Restarting the network usually fixes this (in the recovery menu: "Enable networking").',
    };
  if (family === null && !f.nameservers)
    return {
      layer: 'name',
      text: `This computer has no name server set up, so "${target.host}" cannot be looked up.`,
      next: 'Ask your helper for their numeric address (like 203.0.113.5) and use that instead.',
    };
  return null;
}

/** Failures that may be this machine's own network's doing. */
const NETWORK_ERRORS = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** Why a dial failed, in plain words: what this machine's network lacks (`missing`, which a
 * cable or a started network fixes), a firewall that drops what it sends out, or the error. */
export function explainDialFailure(address: Address, e: NodeJS.ErrnoException): { why: HelpError; missing: Missing | null } {
  const missing = NETWORK_ERRORS.has(e.code ?? '') ? missingLayer(readNetFacts(), address) : null;
  if (missing) return { why: new HelpError('connect', missing.text, `${missing.next} Then start remote-help again.`), missing };
  const out = e.code === 'ETIMEDOUT' ? outputBlockers() : [];
  if (out.length > 0)
    return {
      why: new HelpError('connect', `${formatAddress(address)} did not answer, and this computer's firewall (${out.join(', ')}) drops what it sends out.`,
        'Its rules for outgoing connections must let remote-help out: ask your helper (remote-help only ever opens incoming ports).'),
      missing: null,
    };
  return { why: describeDialError(address, e), missing: null };
}
