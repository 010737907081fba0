// The firewall hole on the person's word (src/net/firewall.ts), in network namespaces the test
// creates and deletes: a helper's with a firewall that keeps the port closed (native nftables,
// iptables over nf_tables, ufw and legacy iptables whose input policy drops; firewalld with its
// default zone, on a private bus: test/firewalld.ts) and a friend's, joined by a veth pair
// (10.253.0.0/24 only inside them). Without --open-firewall the friend cannot get through,
// nothing is touched and the helper is told what to do; with it the session connects, and after
// every ending (the friend's hotkey, ~., SIGTERM, SIGKILL and then the next start) the rule set
// is what it was before.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { firewalldRecord } from '../src/net/firewall';
import { hasFirewalld, startFirewalld } from './firewalld';
import { confirmCode, release, sessionProcesses, startSide, until, type Side } from './harness';

const root = process.getuid?.() === 0;
/** The environment that reaches a namespace's firewalld (its private bus), where it runs one. */
const buses = new Map<string, Record<string, string>>();
const run = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-ec', cmd], { encoding: 'utf8', env: { ...process.env, ...buses.get(ns) } });

const KINDS: Record<string, string> = {
  nftables: `nft add table inet filter
    nft add chain inet filter input '{ type filter hook input priority 0; policy drop; }'
    nft add rule inet filter input iif lo accept
    nft add rule inet filter input ct state established,related accept`,
  'iptables-nft': `iptables-nft -P INPUT DROP
    iptables-nft -A INPUT -i lo -j ACCEPT
    iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
  // ufw with its defaults (deny incoming), its files a copy of this machine's in /etc/netns/NS
  // (which `ip netns exec` mounts on /etc/ufw): this machine's own ufw is never touched.
  ufw: 'ufw --force enable >/dev/null',
  'iptables-legacy': `iptables-legacy -P INPUT DROP
    iptables-legacy -A INPUT -i lo -j ACCEPT
    iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
  // firewalld, started by namespaces(): its default zone (public) lets in ssh and dhcpv6-client only.
  firewalld: 'firewall-cmd --state >/dev/null',
};

/** Every rule a firewall of the helper's namespace holds, as text (the traffic counters that
 * iptables-nft keeps in its rules are left out: they count packets, not rules), and firewalld's
 * runtime settings of its default zone where it runs. */
const ruleset = (ns: string) => run(ns, 'nft list ruleset; echo ---; iptables-legacy -S; ip6tables-legacy -S; echo ---; iptables-nft -S; ip6tables-nft -S' +
  (buses.has(ns) ? '; echo ---; firewall-cmd --list-all' : '')).replace(/counter packets \d+ bytes \d+/g, 'counter');

/** ufw's files, which an `ufw allow` would change: remote-help must leave them as they are. */
const ufwFiles = (ns: string) => fs.readdirSync(`/etc/netns/${ns}/ufw`).filter((f) => f.endsWith('.rules') || f.endsWith('.conf'))
  .map((f) => fs.readFileSync(`/etc/netns/${ns}/ufw/${f}`, 'utf8')).join('\n---\n');

async function namespaces(t: TestContext, kind: string) {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 10000)}`;
  const helper = `rfh${id}`;
  const friend = `rff${id}`;
  for (const ns of [helper, friend]) {
    execFileSync('ip', ['netns', 'add', ns]);
    t.after(() => spawnSync('ip', ['netns', 'delete', ns]));
    run(ns, 'ip link set lo up');
  }
  execFileSync('ip', ['link', 'add', `h${id}`, 'netns', helper, 'type', 'veth', 'peer', 'name', `f${id}`, 'netns', friend]);
  run(helper, `ip addr add 10.253.0.1/24 dev h${id}; ip link set h${id} up`);
  run(friend, `ip addr add 10.253.0.2/24 dev f${id}; ip link set f${id} up`);
  if (kind === 'ufw') {
    const etc = `/etc/netns/${helper}`;
    fs.mkdirSync(etc, { recursive: true });
    fs.cpSync('/etc/ufw', `${etc}/ufw`, { recursive: true });
    t.after(() => fs.rmSync(etc, { recursive: true, force: true }));
  }
  if (kind === 'firewalld') {
    buses.set(helper, await startFirewalld(t, helper));
    t.after(() => buses.delete(helper));
  }
  run(helper, KINDS[kind]);
  return { helper, friend, before: ruleset(helper), files: kind === 'ufw' ? ufwFiles(helper) : '' };
}

/** A side in `ns`; when the test ends it is killed, and a record of a firewalld hole that it
 * could not remove then (src/net/firewall.ts) is removed too. */
function side(t: TestContext, name: string, args: string[], ns: string): Side {
  const s = startSide(name, args, { netns: ns, env: buses.get(ns) });
  t.after(() => {
    release(s);
    fs.rmSync(firewalldRecord(s.pid), { force: true });
  });
  return s;
}

async function session(t: TestContext, n: { helper: string; friend: string }) {
  const helper = side(t, 'helper', ['helper', '--port', '2222', '--open-firewall'], n.helper);
  const opened = await helper.waitEvent('firewall', 20_000);
  assert.ok(Array.isArray(opened.opened) && opened.opened.length > 0, `opened: ${JSON.stringify(opened)}`);
  const friend = side(t, 'friend', ['friend', '10.253.0.1', '--wait', '1'], n.friend);
  const { shellPid } = await confirmCode(friend, helper);
  helper.write('echo through-$((6*7))\r');
  await friend.waitFor('through-42');
  return { helper, friend, shellPid };
}

const settled = (ns: string, before: string) =>
  until('the rule set as it was', () => ruleset(ns) === before, 5000).catch(() => assert.equal(ruleset(ns), before));

/** Whether a connection from the friend's namespace gets through to the helper's port (a 3-second
 * try; a firewall that drops it makes it time out, one that rejects it answers "no route"). */
function getsThrough(n: { friend: string }) {
  const r = spawnSync('ip', ['netns', 'exec', n.friend, 'timeout', '3', 'bash', '-c', 'exec 3<>/dev/tcp/10.253.0.1/2222'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  assert.ok(r.status === 124 || /No route to host/.test(r.stderr), `the try was kept out by a firewall: ${r.status} ${r.stderr}`);
  return false;
}

for (const kind of Object.keys(KINDS)) {
  const missing = (kind === 'ufw' && !fs.existsSync('/etc/ufw') && 'ufw is installed by .ci/run') ||
    (kind === 'firewalld' && !hasFirewalld && 'firewalld is installed by .ci/run');
  test(`firewall, ${kind}: nothing touched without the word; with it the session connects and every ending leaves the rules as they were`, { skip: (!root && 'needs root (ip netns)') || missing, timeout: 180_000 }, async (t) => {
    await t.test('without --open-firewall: kept out, named, with what to do; nothing changed', async (st) => {
      const n = await namespaces(st, kind);
      const helper = side(st, 'helper', ['helper', '--port', '2222'], n.helper);
      const ev = await helper.waitEvent('firewall', 20_000);
      assert.ok(Array.isArray(ev.blocking) && ev.blocking.length > 0);
      if (kind === 'firewalld') assert.deepEqual(ev.blocking, ['firewalld']);
      await until('the advice', () => /keeps port 2222 closed, so your friend cannot connect\. Start again with --open-firewall/.test(helper.output().replace(/\s+/g, ' ')));
      assert.equal(getsThrough(n), false, 'the firewall keeps the friend out');
      assert.ok(!helper.events().some((e) => e.event === 'connected'), 'nobody connected');
      assert.equal(ruleset(n.helper), n.before);
      helper.kill('SIGTERM');
      await helper.exited;
      assert.equal(ruleset(n.helper), n.before);
    });
    const endings: [string, (s: Awaited<ReturnType<typeof session>>) => Promise<void>][] = [
      ['the friend\'s hotkey', async (s) => s.friend.write('\x1b\x03')],
      ['~.', async (s) => s.helper.write('\r~.')],
      ['SIGTERM', async (s) => s.helper.kill('SIGTERM')],
    ];
    for (const [how, end] of endings) {
      await t.test(`with --open-firewall, ended by ${how}`, async (st) => {
        const n = await namespaces(st, kind);
        const s = await session(st, n);
        assert.notEqual(ruleset(n.helper), n.before, 'the hole is there during the session');
        await end(s);
        await s.helper.exited;
        await s.friend.exited;
        await settled(n.helper, n.before);
        if (kind === 'ufw') assert.equal(ufwFiles(n.helper), n.files, 'no ufw file was written');
        assert.equal(fs.existsSync(firewalldRecord(s.helper.pid)), false, 'no record of the hole is left');
        assert.match(s.helper.output().replace(/\s+/g, ' '), /The firewall is closed again on port 2222\./);
        await until('the shell gone', () => sessionProcesses(s.shellPid).length === 0, 5000);
      });
    }
    await t.test('SIGKILL leaves the rule; the next start removes it', async (st) => {
      const n = await namespaces(st, kind);
      const s = await session(st, n);
      s.helper.kill('SIGKILL');
      await s.helper.exited;
      s.friend.write('\x1b\x03');
      await s.friend.exited;
      assert.notEqual(ruleset(n.helper), n.before, 'a killed process could not remove its rule');
      if (kind === 'firewalld') assert.ok(fs.existsSync(firewalldRecord(s.helper.pid)), 'its record, firewalld\'s ports having no comment');
      const next = side(st, 'helper', ['helper', '--port', '2222'], n.helper);
      await until('the stale rule swept', () => next.events().some((e) => e.event === 'firewall' && Number(e.swept) >= 1), 20_000);
      await settled(n.helper, n.before);
      assert.equal(fs.existsSync(firewalldRecord(s.helper.pid)), false, 'the record of the hole is gone with it');
      next.kill('SIGTERM');
      await next.exited;
    });
    if (kind !== 'firewalld') return;
    await t.test('a port the zone lets in already: nothing opened, and it stays open after the session', async (st) => {
      const n = await namespaces(st, kind);
      run(n.helper, 'firewall-cmd --add-port=2222/tcp >/dev/null');
      const before = ruleset(n.helper);
      const helper = side(st, 'helper', ['helper', '--port', '2222', '--open-firewall'], n.helper);
      const friend = side(st, 'friend', ['friend', '10.253.0.1', '--wait', '1'], n.friend);
      await confirmCode(friend, helper);
      assert.ok(!helper.events().some((e) => e.event === 'firewall'), 'nothing to open, nothing named');
      helper.kill('SIGTERM');
      await helper.exited;
      await friend.exited;
      assert.equal(ruleset(n.helper), before);
    });
  });
}

test('firewall, the connecting side: a firewall that drops what this computer sends out is named, since no hole can help there', { skip: !root && 'needs root (ip netns)', timeout: 60_000 }, async (t) => {
  const n = await namespaces(t, 'nftables');
  run(n.friend, 'iptables-nft -P OUTPUT DROP');
  const friend = side(t, 'friend', ['friend', '10.253.0.1', '--wait', '1'], n.friend);
  await until('the friend told', () => /did not answer, and this computer's firewall \(iptables\) drops what it sends out\./.test(friend.output().replace(/\s+/g, ' ')), 20_000);
});
