// The firewall hole, only on the person's word (step 3's option or --open-firewall): a runtime
// rule that lets in the session's port, tagged "remote-help:PID", in front of whatever of this
// machine's firewall would drop it, and removed on every ending (the teardown; a rule a killed
// process left is removed at the next start, since its PID is gone). Nothing persistent is ever
// written: no `ufw allow` (it writes files), no saved rule sets. Without the word, nothing is
// touched; a firewall that would block the port is only named, with what to do.
//
// Kinds: iptables (legacy and nf_tables back ends, IPv4 and IPv6; ufw is a front end to it, so
// its rules are gone with the process too), native nftables (every input-hook chain whose policy
// drops), and firewalld: the port in its default zone at runtime (`--add-port` with a timeout of
// a day, should all else fail), unless that zone has it open already. firewalld's ports carry no
// comment, so the tag is a record in /run/remote-help, firewalld.PID, with the port, the zone and
// the network namespace (the next start sweeps only its own namespace's).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { processAlive, systemTool } from '../system';

export interface Hole {
  /** What was opened, in words ("nftables (inet filter input)"). */
  where: string[];
  /** Removes every rule it added; never throws. */
  close(): void;
}

const TAG = 'remote-help:';

function sh(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}


/** Whether legacy iptables holds a filter table here. Asking it otherwise would load its kernel
 * module and make an empty table: reading must not change the machine. */
const legacyInUse = (names: string) => /^filter$/m.test(safeRead(names));

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The iptables commands in use, each with the rules of its INPUT chain (`-S`). */
function iptablesFamilies(): { cmd: string; label: string; rules: string }[] {
  const out: { cmd: string; label: string; rules: string }[] = [];
  for (const [cmd, label] of [['iptables-legacy', 'iptables (legacy)'], ['ip6tables-legacy', 'ip6tables (legacy)'], ['iptables-nft', 'iptables'], ['ip6tables-nft', 'ip6tables']]) {
    if (cmd === 'iptables-legacy' && !legacyInUse('/proc/net/ip_tables_names')) continue;
    if (cmd === 'ip6tables-legacy' && !legacyInUse('/proc/net/ip6_tables_names')) continue;
    const path = systemTool(cmd);
    const rules = path ? sh(path, ['-S', 'INPUT']) : null;
    if (path && rules !== null) out.push({ cmd: path, label, rules });
  }
  return out;
}

/** An INPUT chain that would drop a new connection: a DROP policy, or a DROP or REJECT rule. */
const iptablesBlocks = (rules: string) => /^-P INPUT DROP/m.test(rules) || /-j (DROP|REJECT)\b/.test(rules);

interface NftChain { family: string; table: string; name: string; hook?: string; policy?: string }

function nftChains(): NftChain[] {
  const nft = systemTool('nft');
  const json = nft ? sh(nft, ['-j', 'list', 'chains']) : null;
  if (!json) return [];
  try {
    return (JSON.parse(json).nftables as { chain?: NftChain }[]).flatMap((x) => (x.chain ? [x.chain] : []));
  } catch {
    return [];
  }
}

/** Native nftables input chains that drop by default (iptables-nft's own tables are iptables'). */
const nftBlocking = () => nftChains().filter((c) => c.hook === 'input' && c.policy === 'drop' && !(c.name === 'INPUT' && (c.family === 'ip' || c.family === 'ip6')));

/** firewall-cmd's exit status (0: yes, or done; 1: no; more: firewalld does not run, or said
 * no to the change) and what it printed; null without firewall-cmd, or without the D-Bus system
 * bus that firewalld needs. Each call takes a while (a Python program that asks firewalld over
 * D-Bus): as few as can be. */
function firewallCmd(args: string[]): { status: number | null; out: string } | null {
  const cmd = systemTool('firewall-cmd');
  if (!cmd || !(process.env.DBUS_SYSTEM_BUS_ADDRESS || existsSync('/run/dbus/system_bus_socket'))) return null;
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  return { status: r.status, out: r.stdout ?? '' };
}

/** firewalld's default zone (where an interface that no zone claims is), when it runs. */
function firewalldZone(): string | null {
  const r = firewallCmd(['--get-default-zone']);
  return r?.status === 0 && /^[\w-]+$/.test(r.out.trim()) ? r.out.trim() : null;
}

/** Whether firewalld lets TCP `port` in (in `zone`, or the default zone): null when it does not
 * run. */
function firewalldOpens(port: number, zone?: string): boolean | null {
  const r = firewallCmd([...(zone ? [`--zone=${zone}`] : []), `--query-port=${port}/tcp`]);
  return r?.status === 0 ? true : r?.status === 1 ? false : null;
}

const RECORDS = '/run/remote-help';
/** Where a process that opened firewalld keeps its record (root only: /run is root's). */
export const firewalldRecord = (pid: number) => `${RECORDS}/firewalld.${pid}`;
const netns = () => {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return '';
  }
};

/** The firewalls that would keep a connection to `port` out, in words; empty when none would. */
export function blockers(port: number): string[] {
  const kinds: string[] = [];
  if (firewalldOpens(port) === false) kinds.push('firewalld');
  for (const f of iptablesFamilies()) if (iptablesBlocks(f.rules)) kinds.push(/ufw-/.test(f.rules) ? `ufw (${f.label})` : f.label);
  for (const c of nftBlocking()) kinds.push(`nftables (${c.family} ${c.table} ${c.name})`);
  return kinds;
}

/** Firewalls of this machine that drop what it sends out by default (a connecting side needs no
 * hole, unless these keep it in); empty when none do, or when their rules cannot be read. */
export function outputBlockers(): string[] {
  const kinds: string[] = [];
  for (const [cmd, label] of [['iptables-legacy', 'iptables (legacy)'], ['iptables-nft', 'iptables'], ['ip6tables-nft', 'ip6tables']]) {
    if (cmd === 'iptables-legacy' && !legacyInUse('/proc/net/ip_tables_names')) continue;
    const path = systemTool(cmd);
    if (path && /^-P OUTPUT DROP/m.test(sh(path, ['-S', 'OUTPUT']) ?? '')) kinds.push(label);
  }
  for (const c of nftChains()) if (c.hook === 'output' && c.policy === 'drop' && c.name !== 'OUTPUT') kinds.push(`nftables (${c.family} ${c.table} ${c.name})`);
  return kinds;
}

/** Opens `port` (TCP) in front of every firewall that would drop it, for this process. */
export function openHole(port: number, pid = process.pid): Hole {
  const tag = `${TAG}${pid}`;
  const undo: (() => void)[] = [];
  const where: string[] = [];
  const zone = firewalldZone();
  if (zone && firewalldOpens(port, zone) === false) {
    // The record first: a process killed right after adding the port still leaves it.
    const record = firewalldRecord(pid);
    try {
      mkdirSync(RECORDS, { recursive: true, mode: 0o700 });
      writeFileSync(record, JSON.stringify({ port, zone, netns: netns() }), { mode: 0o600 });
    } catch {
      // not root: the timeout is all there is
    }
    const forget = () => rmSync(record, { force: true });
    if (firewallCmd([`--zone=${zone}`, `--add-port=${port}/tcp`, '--timeout=24h'])?.status === 0) {
      where.push('firewalld');
      undo.push(() => {
        firewallCmd([`--zone=${zone}`, `--remove-port=${port}/tcp`]);
        forget();
      });
    } else forget();
  }
  for (const f of iptablesFamilies()) {
    if (!iptablesBlocks(f.rules)) continue;
    const rule = ['INPUT', '-p', 'tcp', '--dport', String(port), '-m', 'comment', '--comment', tag, '-j', 'ACCEPT'];
    if (sh(f.cmd, ['-I', ...rule.slice(0, 1), '1', ...rule.slice(1)]) === null) continue;
    where.push(/ufw-/.test(f.rules) ? `ufw (${f.label})` : f.label);
    undo.push(() => sh(f.cmd, ['-D', ...rule]));
  }
  const nft = systemTool('nft');
  for (const c of nft ? nftBlocking() : []) {
    const echoed = sh(nft!, ['--echo', '--handle', 'insert', 'rule', c.family, c.table, c.name, 'tcp', 'dport', String(port), 'accept', 'comment', `"${tag}"`]);
    const handle = /# handle (\d+)/.exec(echoed ?? '')?.[1];
    if (!handle) continue;
    where.push(`nftables (${c.family} ${c.table} ${c.name})`);
    undo.push(() => sh(nft!, ['delete', 'rule', c.family, c.table, c.name, 'handle', handle]));
  }
  let closed = false;
  return {
    where,
    close() {
      if (closed) return;
      closed = true;
      for (const u of undo.reverse()) u();
    },
  };
}

const stalePid = (pid: number) => Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);

/** Closes the firewalld ports that remote-help processes of this network namespace opened and
 * left (their records say which), and removes those records. A firewalld that does not run has
 * no runtime ports left: the records go. */
function sweepFirewalld(): number {
  let names: string[];
  try {
    names = readdirSync(RECORDS).filter((f) => /^firewalld\.\d+$/.test(f));
  } catch {
    return 0;
  }
  const here = netns();
  const stale = names.flatMap((f) => {
    if (!stalePid(Number(f.slice('firewalld.'.length)))) return [];
    try {
      const r = JSON.parse(safeRead(`${RECORDS}/${f}`)) as { port: number; zone: string; netns: string };
      return r.netns === here && Number.isInteger(r.port) && /^[\w-]+$/.test(r.zone) ? [{ file: `${RECORDS}/${f}`, ...r }] : [];
    } catch {
      return [];
    }
  });
  let removed = 0;
  for (const r of stale) {
    if (firewalldOpens(r.port, r.zone) && firewallCmd([`--zone=${r.zone}`, `--remove-port=${r.port}/tcp`])?.status === 0) removed++;
    rmSync(r.file, { force: true });
  }
  return removed;
}

/** Removes the rules of remote-help processes that are gone (killed before they could). */
export function sweepStaleHoles(): number {
  let removed = sweepFirewalld();
  const stale = (comment: string) => stalePid(Number(comment.slice(TAG.length)));
  for (const f of iptablesFamilies()) {
    for (const line of f.rules.split('\n')) {
      const m = /--comment "?(remote-help:\d+)"?/.exec(line);
      if (!m || !line.startsWith('-A INPUT ') || !stale(m[1])) continue;
      const args = line.slice(3).replace(/"/g, '').split(/\s+/).filter(Boolean);
      if (sh(f.cmd, ['-D', ...args]) !== null) removed++;
    }
  }
  const nft = systemTool('nft');
  const json = nft ? sh(nft, ['-j', 'list', 'ruleset']) : null;
  if (json) {
    try {
      for (const x of JSON.parse(json).nftables as { rule?: { family: string; table: string; chain: string; handle: number; comment?: string } }[]) {
        const r = x.rule;
        if (r?.comment?.startsWith(TAG) && stale(r.comment) && sh(nft!, ['delete', 'rule', r.family, r.table, r.chain, 'handle', String(r.handle)]) !== null) removed++;
      }
    } catch {
      // an nft without JSON: nothing swept
    }
  }
  return removed;
}
