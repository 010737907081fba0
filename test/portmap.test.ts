// Port mapping on a home router (src/net/portmap.ts): a router namespace running Debian's
// miniupnpd (nftables back end) with NAT between a "home" network (10.254.1.0/24, the helper's)
// and an "outside" one (11.254.2.0/24, the friend's: miniupnpd refuses private outside addresses;
// these exist only inside the namespaces the test creates and deletes, which have no way out).
// The helper asks for its port with --map-port, the friend connects to the router's outside
// address, the session works, and the mapping is gone after the ending; after a SIGKILL, the next
// start deletes it (UPnP) or its short lease runs out (NAT-PMP).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { confirmCode, release, startSide, tempDir, until, type Side } from './harness';

const root = process.getuid?.() === 0;
const sh = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-ec', cmd], { encoding: 'utf8' });
const haveTools = ['miniupnpd', 'upnpc', 'natpmpc'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

const NFT = `table inet rh_upnp {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "rH" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "rO" masquerade
  }
  chain postrouting_miniupnpd {
  }
}
`;

function router(t: TestContext, protocol: 'UPnP' | 'NAT-PMP') {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const [r, h, f] = [`rmr${id}`, `rmh${id}`, `rmf${id}`];
  for (const ns of [r, h, f]) {
    execFileSync('ip', ['netns', 'add', ns]);
    t.after(() => spawnSync('ip', ['netns', 'delete', ns]));
    sh(ns, 'ip link set lo up');
  }
  execFileSync('ip', ['link', 'add', 'rH', 'netns', r, 'type', 'veth', 'peer', 'name', 'hH', 'netns', h]);
  execFileSync('ip', ['link', 'add', 'rO', 'netns', r, 'type', 'veth', 'peer', 'name', 'fO', 'netns', f]);
  sh(r, 'ip addr add 10.254.1.1/24 dev rH; ip link set rH up; ip addr add 11.254.2.1/24 dev rO; ip link set rO up; sysctl -qw net.ipv4.ip_forward=1');
  sh(h, 'ip addr add 10.254.1.2/24 dev hH; ip link set hH up; ip route add default via 10.254.1.1');
  sh(f, 'ip addr add 11.254.2.2/24 dev fO; ip link set fO up');
  execFileSync('ip', ['netns', 'exec', r, 'nft', '-f', '-'], { input: NFT });
  const dir = tempDir('remote-help-router-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = path.join(dir, 'miniupnpd.conf');
  fs.writeFileSync(conf, [
    'ext_ifname=rO', 'listening_ip=rH', 'http_port=0', 'enable_natpmp=yes', `enable_upnp=${protocol === 'UPnP' ? 'yes' : 'no'}`,
    'secure_mode=yes', 'system_uptime=yes', 'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
    'upnp_table_name=rh_upnp', 'upnp_nat_table_name=rh_upnp', 'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd', 'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    'allow 1024-65535 10.254.1.0/24 1024-65535', 'deny 0-65535 0.0.0.0/0 0-65535', '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'miniupnpd.log'), 'w');
  const daemon = spawn('ip', ['netns', 'exec', r, 'miniupnpd', '-f', conf, '-d', '-P', path.join(dir, 'miniupnpd.pid')], { stdio: ['ignore', log, log] });
  t.after(() => daemon.kill('SIGKILL'));
  return {
    /** Until the router answers NAT-PMP (it answers both once it is up). */
    ready: () => until('miniupnpd to answer', () => /Public IP address : 11\.254\.2\.1/.test(
      spawnSync('ip', ['netns', 'exec', h, 'natpmpc', '-g', '10.254.1.1'], { encoding: 'utf8' }).stdout ?? ''), 10_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}; miniupnpd said: ${fs.readFileSync(path.join(dir, 'miniupnpd.log'), 'utf8').slice(-1500)}`);
      }), r, h, f, forwarded: () => /dport 2222/.test(sh(r, 'nft list table inet rh_upnp')) };
}

function side(t: TestContext, name: string, args: string[], ns: string, env: Record<string, string> = {}): Side {
  const s = startSide(name, args, { netns: ns, env });
  t.after(() => release(s));
  return s;
}

async function mappedSession(t: TestContext, n: ReturnType<typeof router>, env: Record<string, string> = {}) {
  await n.ready();
  const helper = side(t, 'helper', ['helper', '--port', '2222', '--map-port'], n.h, env);
  const mapped = await helper.waitEvent('port-mapped', 20_000);
  assert.equal(mapped.external, '11.254.2.1', JSON.stringify(mapped));
  await until('step 4 says what to read', () => /Read this to your friend: address 11\.254\.2\.1 port 2222\./.test(helper.output().replace(/\s+/g, ' ')));
  assert.ok(n.forwarded(), 'the router forwards the port');
  const friend = side(t, 'friend', ['friend', '11.254.2.1', '--wait', '1'], n.f);
  const { shellPid } = await confirmCode(friend, helper);
  helper.write('echo through-the-router-$((6*7))\r');
  await friend.waitFor('through-the-router-42');
  return { helper, friend, shellPid, via: mapped.via };
}

for (const protocol of ['UPnP', 'NAT-PMP'] as const) {
  test(`port mapping with ${protocol}: a friend outside reaches the helper behind the router; the mapping is gone after the ending and after a SIGKILL`, { skip: (!root && 'needs root (ip netns)') || (!haveTools && 'miniupnpd, upnpc and natpmpc are installed by .ci/run'), timeout: 120_000 }, async (t) => {
    await t.test('ended by the friend\'s hotkey', async (st) => {
      const n = router(st, protocol);
      const s = await mappedSession(st, n);
      assert.equal(s.via, protocol);
      s.friend.write('\x1b\x03');
      await s.friend.exited;
      await s.helper.exited;
      await until('the mapping gone', () => !n.forwarded(), 5000);
      assert.match(s.helper.output().replace(/\s+/g, ' '), /Your router no longer forwards port 2222\./);
    });
    await t.test('killed: the next start deletes it (UPnP), or its lease runs out (NAT-PMP)', async (st) => {
      const n = router(st, protocol);
      const lease = { REMOTE_HELP_MAP_LEASE: protocol === 'UPnP' ? '600' : '4' };
      const s = await mappedSession(st, n, lease);
      s.helper.kill('SIGKILL');
      await s.helper.exited;
      s.friend.write('\x1b\x03');
      await s.friend.exited;
      assert.ok(n.forwarded(), 'a killed process could not delete its mapping');
      if (protocol === 'UPnP') {
        const next = side(st, 'helper', ['helper', '--port', '2223', '--map-port'], n.h);
        await next.waitEvent('port-mapped', 20_000);
        await until('the old mapping gone', () => !n.forwarded(), 5000);
        next.kill('SIGTERM');
        await next.exited;
      } else {
        await until('the lease run out', () => !n.forwarded(), 15_000);
      }
    });
  });
}

test('port mapping where no router answers: said, with the way by hand', { skip: !root && 'needs root (ip netns)', timeout: 60_000 }, async (t) => {
  const ns = `rmn${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => spawnSync('ip', ['netns', 'delete', ns]));
  sh(ns, 'ip link set lo up');
  const helper = side(t, 'helper', ['helper', '--port', '2222', '--map-port'], ns);
  const ev = await helper.waitEvent('port-mapped', 30_000);
  assert.ok(typeof ev.error === 'string');
  await until('the way by hand', () => /Forward port 2222 to this computer .* by hand in your router's settings, or use --reverse\./.test(helper.output().replace(/\s+/g, ' ')), 5000);
});
