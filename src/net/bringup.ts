// Starting the network when the friend asks for it (N on step 4; never unasked), the way the
// machine's own system would, as friendly-recovery's "Enable networking" does: the enabled one of
// NetworkManager, systemd-networkd and ifupdown's networking service through systemd, else
// `ifup -a`, and where there is still no way out, a DHCP client on each wired interface. Wi-Fi that
// needs a name and password is explained, never attempted. Each command is bounded in time and
// stops when the friend cancels; what ran and what came of it is returned to be shown and logged.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { missingLayer, readNetFacts, type NetFacts } from './diagnose';
import type { Address } from './address';
import { systemTool } from '../system';

export interface BringUp {
  ok: boolean;
  /** What was tried, in order ("NetworkManager", "dhclient on eth0", ...). */
  tried: string[];
  /** What to tell the friend. */
  text: string;
}

const STEP_MS = 30_000;
const SETTLE_MS = 15_000;

function run(file: string, args: string[], signal: AbortSignal, ms = STEP_MS): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: ms, killSignal: 'SIGKILL' });
    } catch {
      return resolve({ ok: false, output: `${file} could not be started` });
    }
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve({ ok: false, output: `${output}${e.message}` }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}


/** Whether this process shares PID 1's network: only then are the system's services ours to start
 * (inside a container or a namespace they would start the network of another). */
function systemsNetwork(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
});

/** Waits until `target` is reachable as far as this machine can tell (or the time is up). */
async function settle(target: Address, signal: AbortSignal, ms = SETTLE_MS): Promise<boolean> {
  for (const end = Date.now() + ms; !signal.aborted; await sleep(250, signal)) {
    const m = missingLayer(readNetFacts(), target);
    if (!m || m.layer === 'name') return true;
    if (Date.now() > end) return false;
  }
  return false;
}

/** Interfaces a DHCP client may try: wired ones (Wi-Fi needs a name and password first). */
const wiredInterfaces = (f: NetFacts): string[] => f.links.filter((l) => !l.wireless).map((l) => l.name);

export async function startNetwork(target: Address, signal: AbortSignal, log: (what: string, ok: boolean, output: string) => void): Promise<BringUp> {
  const tried: string[] = [];
  const done = (text: string): BringUp => ({ ok: true, tried, text: `The network is up${tried.length ? ` (${tried.at(-1)})` : ''}. ${text}`.trim() });
  if ((process.getuid?.() ?? 0) !== 0)
    return { ok: false, tried, text: 'Starting the network needs the administrator (root). Ask your helper what to do, or plug in the network cable.' };
  const facts = readNetFacts();
  if (facts.links.length > 0 && facts.links.every((l) => l.wireless))
    return { ok: false, tried, text: 'This computer only has Wi-Fi, which needs the network\'s name and password: join it in the computer\'s own settings, or plug in a network cable. remote-help does not do that for you.' };
  const step = async (what: string, file: string, args: string[]) => {
    tried.push(what);
    const r = await run(file, args, signal);
    log(what, r.ok, r.output);
    return r.ok;
  };
  // The system's own way first, where the system is ours to ask.
  if (systemsNetwork() && existsSync('/run/systemd/system') && systemTool('systemctl')) {
    for (const [unit, name] of [['NetworkManager.service', 'NetworkManager'], ['systemd-networkd.service', 'systemd-networkd'], ['networking.service', 'networking (ifupdown)']]) {
      if (signal.aborted) break;
      if ((await run('systemctl', ['is-enabled', '-q', unit], signal, 5000)).ok) await step(name, 'systemctl', ['start', '--no-ask-password', unit]);
    }
    if (tried.length > 0 && await settle(target, signal)) return done('');
  } else if (systemsNetwork() && systemTool('ifup') && /^\s*(auto|allow-hotplug)\s+(?!lo\b)\S/m.test(safeRead('/etc/network/interfaces'))) {
    await step('ifup -a', systemTool('ifup')!, ['-a']);
    if (await settle(target, signal)) return done('');
  }
  // A DHCP client on each wired interface, as the recovery menu does last.
  const client = systemTool('dhclient') ? 'dhclient' : systemTool('dhcpcd') ? 'dhcpcd' : systemTool('udhcpc') ? 'udhcpc' : null;
  if (!client) {
    return { ok: false, tried, text: `remote-help could not start the network${tried.length ? ` (tried: ${tried.join(', ')})` : ''}, and there is no DHCP client on this computer. Ask your helper what to try next.` };
  }
  mkdirSync('/run/remote-help', { recursive: true, mode: 0o700 });
  for (const iface of wiredInterfaces(facts)) {
    if (signal.aborted) break;
    if (systemTool('ip')) await run(systemTool('ip')!, ['link', 'set', iface, 'up'], signal, 5000);
    const args = client === 'dhclient' ? ['-1', '-pf', `/run/remote-help/dhclient.${iface}.pid`, '-lf', `/run/remote-help/dhclient.${iface}.leases`, iface]
      : client === 'dhcpcd' ? ['-1', '-w', iface] : ['-i', iface, '-n', '-q', '-t', '5'];
    await step(`${client} on ${iface}`, systemTool(client)!, args);
    if (await settle(target, signal, 3000)) return done(addressNote());
  }
  return {
    ok: false,
    tried,
    text: `remote-help could not start the network (tried: ${tried.join(', ') || 'nothing to try'}). Check the cable, or ask your helper what to try next.`,
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function addressNote(): string {
  const a = readNetFacts().addresses.find((x) => x.family === 'IPv4') ?? readNetFacts().addresses[0];
  return a ? `This computer's address: ${a.address}.` : '';
}
