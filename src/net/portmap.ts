// Port mapping on the home router, on the person's word (--map-port, or step 3's option): the
// router is asked to forward the session's port to this computer, with UPnP IGD (`upnpc`, from
// Debian's miniupnpc) or else NAT-PMP (`natpmpc`), with a lease that runs out by itself, renewed
// while the program runs and deleted on every ending. A mapping a killed remote-help left behind
// is deleted at the next start that maps (UPnP lists them with their "remote-help:PID" name;
// NAT-PMP has no list, and its lease runs out).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { processAlive, systemTool } from '../system';

export interface Mapping {
  via: 'UPnP' | 'NAT-PMP';
  /** The router's public address and the port it forwards. */
  external: string;
  port: number;
  /** Stops renewing and deletes the mapping; never throws. */
  close(): void;
}

/** How long the router keeps a mapping nobody renews; renewed at half of it. */
export const LEASE_S = Number(process.env.REMOTE_HELP_MAP_LEASE) > 0 ? Number(process.env.REMOTE_HELP_MAP_LEASE) : 1200;
const TAG = 'remote-help:';


function run(file: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) =>
    execFile(file, args, { encoding: 'utf8', timeout: 15_000 }, (err, stdout) => resolve(err ? null : stdout)));
}

const runSync = (file: string, args: string[]) => {
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // the router is gone or forgot it already
  }
};


/** The default IPv4 gateway, from the kernel's routing table. */
function gateway(): string | null {
  for (const line of (existsSync('/proc/net/route') ? readFileSync('/proc/net/route', 'utf8') : '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== '00000000' || !f[2]) continue;
    const n = parseInt(f[2], 16);
    return [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24].join('.');
  }
  return null;
}

function renewing(every: number, renew: () => void): () => void {
  const t = setInterval(renew, every);
  t.unref();
  return () => clearInterval(t);
}

async function upnp(port: number): Promise<Mapping | null> {
  const upnpc = systemTool('upnpc');
  const status = upnpc ? await run(upnpc, ['-s']) : null;
  const url = /desc: (http\S+)/.exec(status ?? '')?.[1];
  const lan = /Local LAN ip address : (\S+)/.exec(status ?? '')?.[1];
  const external = /ExternalIPAddress = (\S+)/.exec(status ?? '')?.[1];
  if (!upnpc || !url || !lan || !external) return null;
  // Mappings of remote-help processes that are gone: deleted first (they may hold this port).
  for (const m of (await run(upnpc, ['-u', url, '-l']) ?? '').matchAll(/\d+ (TCP|UDP)\s+(\d+)->\S+\s+'remote-help:(\d+)'/g)) {
    if (!processAlive(Number(m[3]))) await run(upnpc, ['-u', url, '-d', m[2], m[1]]);
  }
  const add = () => run(upnpc, ['-u', url, '-e', `${TAG}${process.pid}`, '-a', lan, String(port), String(port), 'TCP', String(LEASE_S)]);
  const added = await add();
  if (!added || !/is redirected to internal/.test(added)) return null;
  const stop = renewing((LEASE_S * 1000) / 2, () => void add());
  return { via: 'UPnP', external, port, close: () => (stop(), runSync(upnpc, ['-u', url, '-d', String(port), 'TCP'])) };
}

async function natpmp(port: number): Promise<Mapping | null> {
  const natpmpc = systemTool('natpmpc');
  const gw = gateway();
  if (!natpmpc || !gw) return null;
  const external = /Public IP address : (\S+)/.exec(await run(natpmpc, ['-g', gw]) ?? '')?.[1];
  const add = () => run(natpmpc, ['-g', gw, '-a', String(port), String(port), 'tcp', String(LEASE_S)]);
  if (!external || !/Mapped public port/.test(await add() ?? '')) return null;
  const stop = renewing((LEASE_S * 1000) / 2, () => void add());
  return { via: 'NAT-PMP', external, port, close: () => (stop(), runSync(natpmpc, ['-g', gw, '-a', String(port), String(port), 'tcp', '0'])) };
}

/** Asks the router to forward `port` here: UPnP first, then NAT-PMP. A string says why not. */
export async function mapPort(port: number): Promise<Mapping | string> {
  if (!systemTool('upnpc') && !systemTool('natpmpc')) return 'remote-help cannot ask the router: neither upnpc (package miniupnpc) nor natpmpc is installed';
  const m = (await upnp(port)) ?? (await natpmp(port));
  return m ?? 'no router answered (UPnP or NAT-PMP), or it refused';
}
