// The firewall hole, only on the person's word (step 3's option or --open-firewall): a runtime
// rule that lets in the session's port, tagged "remote-help:PID", in front of whatever of this
// machine's firewall would drop it, and removed on every ending (the teardown; a rule a killed
// process left is removed at the next start, since its PID is gone). Nothing persistent is ever
// written: no `ufw allow` (it writes files), no saved rule sets. Without the word, nothing is
// touched; a firewall that would block the port is only named, with what to do.
//
// Kinds: iptables (legacy and nf_tables back ends, IPv4 and IPv6; ufw is a front end to it, so
// its rules are gone with the process too), native nftables (every input-hook chain whose policy
// drops), and firewalld (`--add-port` with a timeout, removed at the end).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

const firewalld = () => {
  const cmd = systemTool('firewall-cmd');
  return cmd && sh(cmd, ['--state'])?.trim() === 'running' ? cmd : null;
};

/** The firewalls that would keep a connection to `port` out, in words; empty when none would. */
export function blockers(): string[] {
  const kinds: string[] = [];
  if (firewalld()) kinds.push('firewalld');
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
  const fwd = firewalld();
  if (fwd && sh(fwd, [`--add-port=${port}/tcp`, '--timeout=24h']) !== null) {
    where.push('firewalld');
    undo.push(() => sh(fwd, [`--remove-port=${port}/tcp`]));
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

/** Removes the rules of remote-help processes that are gone (killed before they could). */
export function sweepStaleHoles(): number {
  let removed = 0;
  const stale = (comment: string) => {
    const pid = Number(comment.slice(TAG.length));
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  };
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
