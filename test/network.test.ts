// The network in plain words (src/net/diagnose.ts): what this machine lacks to reach the other
// side, in layers. Pure rules on given facts, then real network namespaces the test creates and
// deletes (a friend's and a helper's joined by a veth pair, addresses in 10.251.0.0/24 and
// 10.252.0.0/24 only inside them): a link that is down, no address, no route, no name server; and
// a network that comes up while the friend's program keeps trying, which then connects by itself.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { missingLayer, type NetFacts } from '../src/net/diagnose';
import { confirmCode, release, sessionProcesses, startSide, tempDir, until, type Side } from './harness';

const up: NetFacts = {
  links: [{ name: 'eth0', up: true, wireless: false }],
  addresses: [{ family: 'IPv4', address: '192.0.2.7' }],
  routes: { v4: true, v6: false },
  nameservers: true,
};
const to = (host: string) => ({ host, port: 2222 });

test('the lowest missing layer is named, with the one thing to do', () => {
  assert.equal(missingLayer(up, to('203.0.113.5')), null);
  assert.equal(missingLayer({ ...up, links: [] }, to('127.0.0.1')), null, 'loopback needs no network');
  const noLink = missingLayer({ ...up, links: [{ name: 'eth0', up: false, wireless: false }], addresses: [] }, to('203.0.113.5'));
  assert.deepEqual([noLink?.layer, noLink?.text], ['link', 'This computer is not connected to a network.']);
  assert.match(noLink?.next ?? '', /Plug in the network cable/);
  const wifi = missingLayer({ ...up, links: [{ name: 'wlan0', up: false, wireless: true }] }, to('203.0.113.5'));
  assert.match(`${wifi?.text} ${wifi?.next}`, /Wi-Fi is not connected.*Wi-Fi that needs a password must be joined/);
  assert.equal(missingLayer({ ...up, addresses: [] }, to('203.0.113.5'))?.layer, 'address');
  assert.equal(missingLayer(up, to('2001:db8::1'))?.layer, 'address', 'no IPv6 address for an IPv6 helper');
  assert.equal(missingLayer({ ...up, routes: { v4: false, v6: false } }, to('203.0.113.5'))?.layer, 'route');
  const onLink = { ...up, addresses: [{ family: 'IPv4' as const, address: '192.0.2.7', cidr: '192.0.2.7/24' }], routes: { v4: false, v6: false } };
  assert.equal(missingLayer(onLink, to('192.0.2.200')), null, 'a helper on the same network needs no way out');
  assert.equal(missingLayer(onLink, to('192.0.3.1'))?.layer, 'route');
  assert.equal(missingLayer({ ...up, nameservers: false }, to('helper.example'))?.layer, 'name');
  assert.equal(missingLayer({ ...up, nameservers: false }, to('203.0.113.5')), null, 'a number needs no name server');
});

const root = process.getuid?.() === 0;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Two namespaces joined by a veth pair: the friend's end `f`, the helper's `h` (10.251.0.1/24,
 * up, with 10.252.0.1/24 on its loopback as a second network). The friend's side is left as the
 * test wants it. */
function namespaces(t: TestContext) {
  const id = `${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const friend = `rhf${id}`;
  const helper = `rhh${id}`;
  for (const ns of [friend, helper]) {
    ip('netns', 'add', ns);
    t.after(() => spawnSync('ip', ['netns', 'delete', ns]));
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', `f${id}`, 'netns', friend, 'type', 'veth', 'peer', 'name', `h${id}`, 'netns', helper);
  ip('-n', helper, 'addr', 'add', '10.251.0.1/24', 'dev', `h${id}`);
  ip('-n', helper, 'addr', 'add', '10.252.0.1/24', 'dev', 'lo');
  return { friend, helper, f: `f${id}`, h: `h${id}` };
}

/** Waits until the interface says it is up (a veth's carrier follows its peer a moment later). */
const linkUp = (ns: string, dev: string) =>
  until(`${dev} up`, () => / state UP /.test(execFileSync('ip', ['-n', ns, '-o', 'link', 'show', dev], { encoding: 'utf8' })), 5000);

/** Both ends of the veth up, and the friend's end seen up. */
async function bothUp(n: ReturnType<typeof namespaces>) {
  ip('-n', n.helper, 'link', 'set', n.h, 'up');
  ip('-n', n.friend, 'link', 'set', n.f, 'up');
  await linkUp(n.friend, n.f);
}

/** The code confirmed, the helper's command answered on the friend's screen, then the friend's
 * hotkey ends it: both exit with its status and nothing of the shell is left. */
async function sessionWorks(friend: Side, helper: Side) {
  const { shellPid } = await confirmCode(friend, helper);
  helper.write('echo reached-$((6*7))\r');
  await friend.waitFor('reached-42');
  friend.write('\x1b\x03');
  assert.equal((await friend.exited).code, 5);
  assert.equal((await helper.exited).code, 5);
  await until('the shell gone', () => sessionProcesses(shellPid).length === 0, 5000);
}

/** The friend's namespace with an address, a default route and this resolv.conf (`ip netns exec`
 * puts /etc/netns/NS/resolv.conf in place of /etc/resolv.conf). */
async function routedWith(t: TestContext, resolv: string) {
  const n = namespaces(t);
  await bothUp(n);
  ip('-n', n.friend, 'addr', 'add', '10.251.0.2/24', 'dev', n.f);
  ip('-n', n.friend, 'route', 'add', 'default', 'via', '10.251.0.1');
  const dir = `/etc/netns/${n.friend}`;
  fs.mkdirSync(dir, { recursive: true });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(`${dir}/resolv.conf`, resolv);
  return n;
}

function friendIn(t: TestContext, ns: string, address: string): Side {
  const s = startSide('friend', ['friend', address, '--wait', '1'], { netns: ns });
  t.after(() => release(s));
  return s;
}

/** What a side printed, wrapped lines joined: its plain-mode lines wrap between words. */
const says = (s: Side, text: string) =>
  until(`${s.name} to say ${JSON.stringify(text)}`, () => s.output().replace(/\s+/g, ' ').includes(text), 15_000)
    .catch((e: Error) => {
      throw new Error(`${e.message}; it printed: ${JSON.stringify(s.output().replace(/\s+/g, ' ').slice(-600))}`);
    });

const networkEvents = (s: Side) => s.events().filter((e) => e.event === 'network').map((e) => e.missing);

test('in network namespaces: each missing layer is said in plain words; the network coming up lets the friend connect by itself', { skip: !root && 'needs root (ip netns), as in .ci/run', timeout: 120_000 }, async (t) => {
  await t.test('the link is down (no carrier)', async (st) => {
    const n = namespaces(st);
    ip('-n', n.friend, 'link', 'set', n.f, 'up'); // the other end stays down: no carrier
    const friend = friendIn(st, n.friend, '10.251.0.1');
    await says(friend, 'This computer is not connected to a network. Plug in the network cable.');
    assert.deepEqual(networkEvents(friend), ['link']);
  });

  await t.test('the waiting side with no network: said on step 4, since nobody can connect yet', async (st) => {
    const n = namespaces(st);
    const helper = startSide('helper', ['helper', '--port', '2222'], { netns: n.helper }); // its link is down
    st.after(() => release(helper));
    await says(helper, 'This computer is not connected to a network. Plug in the network cable. Your friend cannot reach this computer until then.');
    assert.deepEqual(networkEvents(helper), ['link']);
  });

  await t.test('no address, then the network comes up: the friend connects to the helper by itself', async (st) => {
    const n = namespaces(st);
    await bothUp(n);
    const helper = startSide('helper', ['helper', '--port', '2222'], { netns: n.helper });
    st.after(() => release(helper));
    await helper.waitEvent('listening');
    const friend = friendIn(st, n.friend, '10.251.0.1');
    await says(friend, 'This computer is connected to a network but has no address on it yet.');
    ip('-n', n.friend, 'addr', 'add', '10.251.0.2/24', 'dev', n.f); // what a DHCP answer would do
    await sessionWorks(friend, helper);
    assert.deepEqual(networkEvents(friend), ['address', null]);
  });

  await t.test('no address; the friend presses N: a DHCP client gets one from the neighbour\'s DHCP server, and the session connects', async (st) => {
    const n = namespaces(st);
    await bothUp(n);
    const dir = tempDir('remote-help-dhcp-');
    st.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    // The helper's network has a DHCP server (dnsmasq, DHCP only: --port=0 turns off its DNS).
    const dnsmasq = spawn('ip', ['netns', 'exec', n.helper, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', `--interface=${n.h}`,
      '--bind-interfaces', '--dhcp-range=10.251.0.50,10.251.0.60,255.255.255.0,2m', '--dhcp-option=option:router,10.251.0.1',
      `--dhcp-leasefile=${dir}/leases`, '--user=root', '--group=root', '--dhcp-authoritative'], { stdio: 'ignore' });
    st.after(() => dnsmasq.kill('SIGKILL'));
    // A resolv.conf of the namespace's own, so that the DHCP client's script never touches this
    // machine's (`ip netns exec` mounts it in place of /etc/resolv.conf).
    const etc = `/etc/netns/${n.friend}`;
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(`${etc}/resolv.conf`, '# the test namespace\'s own\n');
    st.after(() => fs.rmSync(etc, { recursive: true, force: true }));
    // The DHCP client stays to renew the lease, as the system's would: it goes with the test.
    const pidFile = `/run/remote-help/dhclient.${n.f}.pid`;
    st.after(() => {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // not started
      }
      fs.rmSync(pidFile, { force: true });
      fs.rmSync(`/run/remote-help/dhclient.${n.f}.leases`, { force: true });
    });
    const helper = startSide('helper', ['helper', '--port', '2222'], { netns: n.helper });
    st.after(() => release(helper));
    await helper.waitEvent('listening');
    const friend = friendIn(st, n.friend, '10.251.0.1');
    await says(friend, 'This computer is connected to a network but has no address on it yet.');
    await says(friend, 'Or press N to let remote-help start the network.');
    await says(friend, '[n: start the network b: cancel q: quit]');
    friend.write('n\r');
    await says(friend, 'Starting the network...');
    await friend.waitEvent('code-shown', 40_000);
    const started = friend.events().filter((e) => e.event === 'network-start');
    assert.deepEqual(started.at(-1), { ...started.at(-1), ok: true, tried: [`dhclient on ${n.f}`] });
    await says(friend, 'The network is up (dhclient on');
    await sessionWorks(friend, helper);
  });

  await t.test('an address but no way out (no default route)', async (st) => {
    const n = namespaces(st);
    await bothUp(n);
    ip('-n', n.friend, 'addr', 'add', '10.251.0.2/24', 'dev', n.f);
    const friend = friendIn(st, n.friend, '10.252.0.1'); // the helper's second network
    await says(friend, 'This computer has an address but no way out of its own network (no default route).');
    assert.deepEqual(networkEvents(friend), ['route']);
  });

  await t.test('a name, and no name server', async (st) => {
    // No name server, as on a machine whose network was never set up.
    const n = await routedWith(st, '# no name server\n');
    const friend = friendIn(st, n.friend, 'helper.invalid');
    await says(friend, 'This computer has no name server set up, so "helper.invalid" cannot be looked up.');
    await says(friend, 'Ask your helper for their numeric address');
    const r = await friend.exited;
    assert.equal(r.code, 3, 'it stops: waiting cannot fix a missing name server');
    assert.deepEqual(networkEvents(friend), ['name']);
  });

  await t.test('a name, and a name server that does not answer', async (st) => {
    const n = await routedWith(st, 'nameserver 10.251.0.1\noptions timeout:1 attempts:1\n'); // nothing answers there
    const friend = friendIn(st, n.friend, 'helper.invalid');
    await says(friend, 'The name "helper.invalid" could not be found.');
    await says(friend, 'Check the spelling with your helper, or use the numeric address instead.');
    assert.equal((await friend.exited).code, 3);
  });
});
