// The meeting point (src/net/meeting.ts): both people behind NAT routers that let nothing in, and
// a server with Debian's OpenSSH that both can reach. Namespaces the test creates and deletes:
//   server S (sshd; its public address 11.254.0.1 on its loopback),
//   router A (NAT, drops what comes in) with the helper's home HA behind it (10.254.10.0/24),
//   router B (the same) with the friend's home HB (10.254.20.0/24).
// The addresses exist only inside these namespaces, which have no way out. The server's sshd runs
// in a mount namespace of its own where /root is a folder of the test's, so the key lines the
// helper's program adds are the test's to read, and nothing of this machine's is touched.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { confirmCode, release, ROOT, startSide, tempDir, until, type Side } from './harness';

const root = process.getuid?.() === 0;
const haveTools = ['sshd', 'ssh', 'tcpdump', 'unshare', 'nft'].every((t) => spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t}`]).status === 0);
const skip = (!root && 'needs root (ip netns)') || (!haveTools && 'OpenSSH, tcpdump and nftables are installed by .ci/run');
const sh = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-ec', cmd], { encoding: 'utf8' });
const SERVER = '11.254.0.1';
const HOTKEY = '\x1b\x03';

const routerRules = (inside: string, outside: string) => `table inet rh_nat {
  chain input { type filter hook input priority 0; policy drop; iif lo accept; ct state established,related accept; iifname "${inside}" accept; }
  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; iifname "${inside}" accept; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; oifname "${outside}" masquerade; }
}
`;

interface World {
  s: string; ha: string; hb: string; ra: string; rb: string;
  dir: string;
  /** $REMOTE_HELP_SSH for the helper: its key, and the server's key known. */
  ssh: string;
  authorizedKeys: string;
  /** Cuts the friend's home off the server, or puts it back. */
  friendLink(up: boolean): void;
  /** Processes in the server's namespace other than the listening sshd (and the capture). */
  serverProcesses(): string[];
  listening(): string;
  capture(): { stop(): Promise<Buffer> };
}

function world(t: TestContext, sshdOptions: string[]): World {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const [s, ra, rb, ha, hb] = ['mps', 'mpra', 'mprb', 'mpha', 'mphb'].map((n) => `${n}${id}`);
  for (const ns of [s, ra, rb, ha, hb]) {
    execFileSync('ip', ['netns', 'add', ns]);
    t.after(() => spawnSync('ip', ['netns', 'delete', ns]));
    sh(ns, 'ip link set lo up');
  }
  const link = (a: string, an: string, b: string, bn: string) => execFileSync('ip', ['link', 'add', an, 'netns', a, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
  link(s, 'sA', ra, 'aS');
  link(s, 'sB', rb, 'bS');
  link(ra, 'aH', ha, 'hA');
  link(rb, 'bH', hb, 'hB');
  sh(s, `ip addr add ${SERVER}/32 dev lo
    ip addr add 11.254.10.1/24 dev sA; ip link set sA up; ip addr add 11.254.20.1/24 dev sB; ip link set sB up`);
  for (const [r, out, inside, n] of [[ra, 'aS', 'aH', '10'], [rb, 'bS', 'bH', '20']]) {
    sh(r, `ip addr add 11.254.${n}.2/24 dev ${out}; ip link set ${out} up; ip addr add 10.254.${n}.1/24 dev ${inside}; ip link set ${inside} up
      ip route add default via 11.254.${n}.1; sysctl -qw net.ipv4.ip_forward=1`);
    execFileSync('ip', ['netns', 'exec', r, 'nft', '-f', '-'], { input: routerRules(inside, out) });
  }
  sh(ha, 'ip addr add 10.254.10.2/24 dev hA; ip link set hA up; ip route add default via 10.254.10.1');
  sh(hb, 'ip addr add 10.254.20.2/24 dev hB; ip link set hB up; ip route add default via 10.254.20.1');

  const dir = tempDir('remote-help-meeting-');
  const keygen = (f: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, f)]);
  keygen('host_key');
  keygen('helper_key');
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const authorizedKeys = path.join(home, '.ssh', 'authorized_keys');
  fs.copyFileSync(path.join(dir, 'helper_key.pub'), authorizedKeys);
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'sshd_config'), [
    `HostKey ${dir}/host_key`, 'ListenAddress 0.0.0.0', 'PidFile none', 'UsePAM no', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'StrictModes no', 'PermitRootLogin prohibit-password', 'AllowTcpForwarding yes',
    'PrintMotd no', 'UseDNS no', 'LogLevel VERBOSE', 'ClientAliveInterval 5', ...sshdOptions, '',
  ].join('\n'));
  const sshdLog = fs.openSync(path.join(dir, 'sshd.log'), 'w');
  const sshd = spawn('ip', ['netns', 'exec', s, 'unshare', '-m', 'sh', '-c',
    `mount --bind ${home} /root && exec /usr/sbin/sshd -D -e -f ${dir}/sshd_config`], { stdio: ['ignore', sshdLog, sshdLog] });
  t.after(() => {
    sshd.kill('SIGKILL');
    for (const p of spawnSync('ip', ['netns', 'pids', s], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) spawnSync('kill', ['-9', p]);
  });
  fs.writeFileSync(path.join(dir, 'known_hosts'), `${SERVER} ${fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8')}`);
  fs.writeFileSync(path.join(dir, 'ssh_config'), [
    'Host *', `  IdentityFile ${dir}/helper_key`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${dir}/known_hosts`,
    '  GlobalKnownHostsFile /dev/null', '  User root', '',
  ].join('\n'));
  const ps = () => spawnSync('ip', ['netns', 'pids', s], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return {
    s, ha, hb, ra, rb, dir, authorizedKeys,
    ssh: `ssh -F ${dir}/ssh_config`,
    friendLink: (up) => sh(rb, `ip link set bH ${up ? 'up' : 'down'}`),
    serverProcesses: () => ps().map((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      } catch {
        return '';
      }
    }).filter((c) => c && !/sshd -D -e|^unshare|^tcpdump/.test(c)),
    listening: () => sh(s, 'ss -ltnH'),
    capture() {
      const file = path.join(dir, `capture-${Date.now()}.pcap`);
      const p: ChildProcess = spawn('ip', ['netns', 'exec', s, 'tcpdump', '-i', 'any', '-U', '-s', '0', '-w', file], { stdio: 'ignore' });
      t.after(() => p.kill('SIGKILL'));
      return {
        stop: async () => {
          p.kill('SIGINT');
          await new Promise((r) => p.once('exit', r));
          return fs.readFileSync(file);
        },
      };
    },
  };
}

async function serverReady(w: World) {
  await until('sshd to listen on the server', () => /:22\b/.test(w.listening()), 10_000);
}

function side(t: TestContext, name: string, args: string[], ns: string, env: Record<string, string> = {}): Side {
  const s = startSide(name, args, { netns: ns, env });
  t.after(() => release(s));
  return s;
}

const flat = (s: Side) => s.output().replace(/\s+/g, ' ');

/** The whole flow over the meeting point: the code, a shared shell, the friend's link cut and
 * back, the hotkey; the server's capture has none of what was typed or shown; nothing is left. */
async function meetingSession(t: TestContext, w: World, form: 'public' | 'word') {
  await serverReady(w);
  const keysBefore = fs.readFileSync(w.authorizedKeys, 'utf8');
  const capture = w.capture();
  let helper: Side;
  if (form === 'public') {
    // Through the wizard: welcome, "I am helping", a name for friends, s on step 3 and the server, then wait.
    helper = side(t, 'helper', ['--reconnect', '1'], w.ha, { REMOTE_HELP_SSH: w.ssh });
    for (const [line, next] of [['', 'Who are you?'], ['2', 'Type the name your friends will see'], ['Alex', 'Meet at a server: off (s:'], ['s', 'Leave it empty to meet directly.'], [SERVER, `Your friend will connect through the server ${SERVER}.`]]) {
      helper.write(`${line}\r`);
      await helper.waitFor(next);
    }
    helper.write('\r');
  } else {
    helper = side(t, 'helper', ['helper', '--via', SERVER, '--reconnect', '1'], w.ha, { REMOTE_HELP_SSH: w.ssh });
  }
  const meeting = await until('the meeting point set up', () => helper.events().find((e) => e.event === 'meeting' && e.form), 30_000)
    .catch((e: Error) => assert.fail(`${e.message}: the helper shows ${flat(helper).slice(-1500)}; sshd says ${fs.readFileSync(path.join(w.dir, 'sshd.log'), 'utf8').slice(-1500)}`));
  assert.equal(meeting.form, form, JSON.stringify(meeting));
  let friend: Side;
  if (form === 'public') {
    await until('step 4 says what to read', () => /Read this to your friend: address 11\.254\.0\.1 port 2222\./.test(flat(helper)));
    friend = side(t, 'friend', ['friend', `${SERVER}:2222`, '--wait', '1', '--reconnect', '1'], w.hb);
  } else {
    const word = await until('the word on step 4', () => /address root@11\.254\.0\.1, then the one-time word ([0-9A-Z]{4}-[0-9A-Z]{4})/.exec(flat(helper))?.[1]);
    assert.match(fs.readFileSync(w.authorizedKeys, 'utf8'), /^restrict,port-forwarding,permitopen="127\.0\.0\.1:\d+",permitlisten="127\.0\.0\.1:1",command="\/bin\/false",expiry-time="\d{12}Z" ssh-ed25519 \S+ remote-help-meeting:\d+:[0-9a-f]+:\d+@\S+$/m);
    // The friend types the meeting point, then the word on step 3 (as read out: lower case, a space).
    friend = side(t, 'friend', ['friend', `root@${SERVER}`, '--wait', '1', '--reconnect', '1'], w.hb);
    await friend.waitFor('Type the one-time word your helper reads out');
    friend.write(`${word.toLowerCase().replace('-', ' ')}\r`);
  }
  await confirmCode(friend, helper);
  helper.write('echo typed-$((6*7))-here\r');
  await friend.waitFor('typed-42-here');

  // The friend's link to the server is cut and comes back within the window: the session resumes.
  w.friendLink(false);
  await friend.waitEvent('helper-lost', 30_000);
  w.friendLink(true);
  await friend.waitEvent('helper-back', 30_000);
  await helper.waitEvent('relinked', 30_000); // keys typed while the helper's side still waits are dropped
  helper.write('echo back-$((7*7))-again\r');
  await friend.waitFor('back-49-again', 15_000);

  friend.write(HOTKEY);
  assert.equal((await friend.exited).code, 5);
  await helper.exited;
  const seen = await capture.stop();
  assert.ok(seen.length > 10_000 && seen.includes('SSH-2.0-'), `the capture saw the session (${seen.length} bytes)`);
  for (const text of ['typed-', 'typed-42-here', 'back-49-again', 'echo back'])
    assert.equal(seen.indexOf(text), -1, `the server's capture has no "${text}"`);

  // Nothing of the session is left on the server.
  await until('no listening port but sshd\'s', () => w.listening().trim().split('\n').every((l) => /:22\s/.test(l)) && w.listening().trim(), 10_000);
  await until('no process of the session on the server', () => w.serverProcesses().length === 0 || null, 10_000)
    .catch(() => assert.fail(`left on the server: ${w.serverProcesses().join('; ')}`));
  assert.equal(fs.readFileSync(w.authorizedKeys, 'utf8'), keysBefore, 'the key lines are as before');
  const note = form === 'public' ? /The meeting point 11\.254\.0\.1 no longer listens on port 2222\./ : /The one-time key for your friend is gone from 11\.254\.0\.1\./;
  assert.match(flat(helper), note);
  return { helper, friend };
}

test('meeting point, public form (GatewayPorts clientspecified): the friend dials the server\'s port; the session runs through it unread, survives a cut, and leaves nothing', { skip, timeout: 180_000 }, async (t) => {
  const w = world(t, ['GatewayPorts clientspecified']);
  await meetingSession(t, w, 'public');
});

test('meeting point, word form (no GatewayPorts): the friend logs in with the one-time word; the same, and the key line is gone after', { skip, timeout: 180_000 }, async (t) => {
  const w = world(t, []);
  await meetingSession(t, w, 'word');
});

test('meeting point, word form: a key line a killed helper left is removed by the next start here, and SIGTERM removes its own', { skip, timeout: 120_000 }, async (t) => {
  const w = world(t, []);
  await serverReady(w);
  const before = fs.readFileSync(w.authorizedKeys, 'utf8');
  const ours = () => fs.readFileSync(w.authorizedKeys, 'utf8').split('\n').filter((l) => l.includes('remote-help-meeting:'));
  const helperWaiting = async () => {
    const h = side(t, 'helper', ['helper', '--via', SERVER], w.ha, { REMOTE_HELP_SSH: w.ssh });
    await until('the meeting point set up', () => h.events().find((e) => e.event === 'meeting' && e.form === 'word'), 30_000);
    return h;
  };
  const first = await helperWaiting();
  first.kill('SIGKILL');
  await first.exited;
  const left = ours();
  assert.equal(left.length, 1, 'a killed helper could not remove its line');
  const second = await helperWaiting();
  const now = ours();
  assert.equal(now.length, 1, 'only the new helper\'s line');
  assert.notEqual(now[0], left[0]);
  assert.ok(now[0].includes(`:${second.pid}@`), now[0]);
  second.kill('SIGTERM');
  assert.equal((await second.exited).code, 9);
  assert.equal(fs.readFileSync(w.authorizedKeys, 'utf8'), before, 'the key lines are as before');
  await until('no process of the session on the server', () => w.serverProcesses().length === 0 || null, 10_000);
});

test('a man in the middle on the meeting point\'s server: the codes differ', { skip, timeout: 120_000 }, async (t) => {
  const w = world(t, ['GatewayPorts clientspecified']);
  await serverReady(w);
  const helper = side(t, 'helper', ['helper', '--via', SERVER], w.ha, { REMOTE_HELP_SSH: w.ssh });
  await until('the meeting point set up', () => helper.events().find((e) => e.event === 'meeting' && e.form), 30_000);
  // The server's owner sends the friend to a program of theirs, which talks to the helper's port.
  const mitm = spawn('ip', ['netns', 'exec', w.s, process.execPath, '--import', 'tsx', path.join(ROOT, 'test', 'fixtures', 'mitm-meeting.ts'), '2223', '2222'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => mitm.kill('SIGKILL'));
  let said = '';
  mitm.stdout!.on('data', (b: Buffer) => (said += b.toString()));
  await until('the man in the middle listening', () => said.includes('listening'), 20_000);
  const friend = side(t, 'friend', ['friend', `${SERVER}:2223`, '--wait', '1'], w.hb);
  const friendCode = String((await friend.waitEvent('code-shown', 20_000)).code);
  const helperCode = String((await helper.waitEvent('code-shown', 20_000)).code);
  const legs = await until('both legs\' codes', () => {
    const lines = said.split('\n').filter((l) => l.startsWith('{"leg"')).map((l) => JSON.parse(l) as { leg: string; code?: string });
    return lines.length >= 2 ? lines : null;
  }, 20_000);
  assert.notEqual(friendCode, helperCode, 'the friend and the helper see different codes');
  assert.equal(legs.find((l) => l.leg === 'friend')?.code, friendCode);
  assert.equal(legs.find((l) => l.leg === 'helper')?.code, helperCode);
  friend.write('n\r');
  await friend.exited;
  helper.write('q\r');
  await helper.exited;
});

test('meeting point failures say what happened and what to change', { skip, timeout: 180_000 }, async (t) => {
  const w = world(t, ['GatewayPorts clientspecified']);
  // A second sshd on port 2200 that allows no forwarding.
  fs.writeFileSync(path.join(w.dir, 'sshd_noforward'), fs.readFileSync(path.join(w.dir, 'sshd_config'), 'utf8')
    .replace('AllowTcpForwarding yes', 'AllowTcpForwarding no') + 'Port 2200\n');
  const second = spawn('ip', ['netns', 'exec', w.s, 'unshare', '-m', 'sh', '-c',
    `mount --bind ${path.join(w.dir, 'home')} /root && exec /usr/sbin/sshd -D -e -f ${w.dir}/sshd_noforward`], { stdio: 'ignore' });
  t.after(() => second.kill('SIGKILL'));
  await serverReady(w);
  await until('the second sshd', () => /:2200\b/.test(w.listening()), 10_000);
  const taken = spawn('ip', ['netns', 'exec', w.s, process.execPath, '-e', 'require("net").createServer().listen(2224, "0.0.0.0"); setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => taken.kill('SIGKILL'));
  await until('port 2224 taken on the server', () => /:2224\b/.test(w.listening()), 10_000);
  keygenInto(w.dir, 'stranger_key');
  fs.writeFileSync(path.join(w.dir, 'empty_known_hosts'), '');
  fs.writeFileSync(path.join(w.dir, 'other_known_hosts'), `${SERVER} ${fs.readFileSync(path.join(w.dir, 'stranger_key.pub'), 'utf8')}`);
  const cases: { what: string; args: string[]; ssh: string; says: RegExp }[] = [
    { what: 'a server never met', args: [SERVER], ssh: `${w.ssh} -o UserKnownHostsFile=${w.dir}/empty_known_hosts`,
      says: /You have not logged in to 11\.254\.0\.1:22 before, and remote-help never accepts a server's key for you\. Log in once with "ssh -p 22 11\.254\.0\.1"/ },
    { what: 'a changed host key', args: [SERVER], ssh: `${w.ssh} -o UserKnownHostsFile=${w.dir}/other_known_hosts`,
      says: /shows a different key from the one you accepted before: someone may be in the middle/ },
    { what: 'a login refused', args: [SERVER], ssh: `ssh -F /dev/null -o UserKnownHostsFile=${w.dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i ${w.dir}/stranger_key -l root`,
      says: /refused your login as root/ },
    { what: 'no server there', args: ['11.254.0.9'], ssh: `${w.ssh} -o ConnectTimeout=3`, says: /could not be reached|No SSH server answers/ },
    { what: 'no SSH on that port', args: [`${SERVER}:2201`], ssh: w.ssh, says: /No SSH server answers at 11\.254\.0\.1:2201/ },
    { what: 'forwarding not allowed', args: [`${SERVER}:2200`], ssh: w.ssh, says: /would not listen on 0\.0\.0\.0:2222 for you.*AllowTcpForwarding yes/ },
    { what: 'the port taken', args: [SERVER, '--port', '2224'], ssh: w.ssh, says: /would not listen on 0\.0\.0\.0:2224 for you: the port is in use there/ },
  ];
  for (const c of cases) {
    await t.test(c.what, async (st) => {
      const helper = side(st, 'helper', ['helper', '--via', ...c.args], w.ha, { REMOTE_HELP_SSH: c.ssh });
      const r = await helper.exited;
      assert.equal(r.code, 3, `${c.what}: exit status 3 (${flat(helper).slice(-400)})`);
      assert.match(flat(helper), c.says);
      assert.doesNotMatch(helper.output(), /\n\s+at /, 'no stack trace');
    });
  }
  assert.equal(w.serverProcesses().filter((p) => !/sshd_noforward|listen\(2224/.test(p)).length, 0, `left on the server: ${w.serverProcesses().join('; ')}`);
});

function keygenInto(dir: string, name: string) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)]);
}
