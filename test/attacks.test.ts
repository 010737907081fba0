// Attacks on a real remote-help process (in a real pty, on loopback): a helper that holds the
// verified key and asks for more than the one shell, a man in the middle, wrong SSH keys, bytes
// sent before the friend's Y, and garbage on the helper's port. The attacker is in this process
// (test/attacker.ts): the project's own handshake, then ssh2 directly.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { listeningPort, sessionProcesses, until, type Side, sideFor } from './harness';
import {
  acceptHandshake, collect, dialHandshake, fakeFriendServer, ForgingAgent, outcome, parsed, rawConnect,
  sshClient, within, type Attack,
} from './attacker';
import { freshKey } from '../src/net/keys';
import { EXIT } from '../src/errors';

const HOTKEY = Buffer.from([0x1b, 0x03]);
const BANNER = 'To leave: press Enter, then type ~.';

/** A path in /tmp that nothing else uses; the attacks try to create it. */
function marker(t: TestContext, what: string): string {
  const file = path.join(os.tmpdir(), `remote-help-attack-${what}-${process.pid}-${randomBytes(4).toString('hex')}`);
  t.after(() => fs.rmSync(file, { force: true }));
  return file;
}

const side = sideFor;

const refusals = (s: Side) => s.events().filter((e) => e.event === 'request-refused');
const has = (s: Side, ev: string) => s.events().some((e) => e.event === ev);

async function exitOf(s: Side, ms = 10_000) {
  return within(`${s.name} to exit`, s.exited, ms);
}

/** A real friend waiting with --reverse and an attacker-helper that dialled it and got the code. */
async function friendAndAttackerHelper(t: TestContext, key = freshKey()): Promise<{ friend: Side; attack: Attack }> {
  const friend = side(t, 'friend', ['friend', '--reverse', '--port', '0']);
  const port = await listeningPort(friend);
  const attack = await dialHandshake(port, 'helper', key);
  t.after(() => attack.link.stream.destroy());
  const shown = await friend.waitEvent('code-shown');
  assert.equal(shown.code, attack.verifying.code, 'no one in the middle: both see the same code');
  return { friend, attack };
}

/** The honest part: the attacker confirms, the friend presses y; resolves with the verified stream. */
async function friendConfirms(friend: Side, attack: Attack) {
  attack.verifying.confirm();
  await friend.waitEvent('peer-confirmed');
  friend.write('y\r');
  return within('the attacker\'s handshake to finish', attack.verifying.finished);
}

test('a helper holding the verified key gets exactly one shell: everything else is refused and reported', async (t) => {
  const { friend, attack } = await friendAndAttackerHelper(t);
  const { stream, peer } = await friendConfirms(friend, attack);
  const client = await sshClient(stream, { privateKey: attack.key.privateKey, hostKey: peer.publicKey });
  t.after(() => client.end());
  const touched = marker(t, 'exec');
  const touchedEnv = marker(t, 'exec-env');
  const touchedRaw = marker(t, 'exec-raw');
  const touchedLater = marker(t, 'exec-later');
  const sock = marker(t, 'sock');

  // Before the shell: each request on a session channel of its own (so each reaches its handler).
  const exec = await outcome('exec', (cb) => client.exec(`touch ${touched}`, cb));
  assert.ok(exec.err, 'exec is refused');
  const execEnv = await outcome('exec with env', (cb) => client.exec(`touch ${touchedEnv}`, { env: { EVIL_ENV: '1' } }, cb));
  assert.ok(execEnv.err, 'exec with env is refused');
  const sftp = await outcome('sftp', (cb) => client.sftp(cb));
  assert.ok(sftp.err, 'sftp is refused');
  const subsys = await outcome('subsystem', (cb) => client.subsys('netconf', cb));
  assert.ok(subsys.err, 'a subsystem is refused');
  const x11 = await outcome('x11', (cb) => client.shell(false, { x11: true }, cb));
  assert.ok(x11.err, 'X11 forwarding is refused (and with it that shell)');
  // ssh2 only asks for agent forwarding when it has an agent; any stand-in will do, it is never used.
  (client as unknown as { _agent: unknown })._agent = {};
  const agent = await outcome('agent forwarding', (cb) => client.exec('true', { agentForward: true } as never, cb));
  (client as unknown as { _agent: unknown })._agent = undefined;
  assert.ok(agent.err, 'agent forwarding is refused');

  // Two shells at once: both sessions open before either shell starts; only one shell may start.
  const shellOpts = { env: { LD_PRELOAD: '/tmp/evil.so' } };
  const win = { term: 'xterm', cols: 80, rows: 24 };
  const [a, b] = await Promise.all([
    outcome<ClientChannel>('shell A', (cb) => client.shell(win, shellOpts, cb)),
    outcome<ClientChannel>('shell B', (cb) => client.shell(win, cb)),
  ]);
  const shells = [a, b].filter((r) => !r.err);
  assert.equal(shells.length, 1, `exactly one shell starts (A: ${a.err?.message ?? 'ok'}, B: ${b.err?.message ?? 'ok'})`);
  const shell = shells[0].value!;
  const seen = collect(shell);
  const started = await friend.waitEvent('session-started');

  // After the shell: forwarding of every kind, a signal, requests on the shell's own channel, more sessions.
  const fwdOut = await outcome('forwardOut', (cb) => client.forwardOut('127.0.0.1', 40000, '127.0.0.1', 22, cb));
  assert.ok(fwdOut.err, 'local/dynamic forwarding (direct-tcpip) is refused');
  const fwdIn = await outcome('forwardIn', (cb) => client.forwardIn('127.0.0.1', 0, cb));
  assert.ok(fwdIn.err, 'remote forwarding (tcpip-forward) is refused');
  const streamOut = await outcome('forwardOutStreamLocal', (cb) => client.openssh_forwardOutStreamLocal('/run/dbus/system_bus_socket', cb));
  assert.ok(streamOut.err, 'forwarding to a unix socket is refused');
  const streamIn = await outcome('forwardInStreamLocal', (cb) => client.openssh_forwardInStreamLocal(sock, cb));
  assert.ok(streamIn.err, 'a unix socket listener is refused');
  assert.ok(!fs.existsSync(sock), 'no socket was created');
  shell.signal('KILL');
  const proto = (client as unknown as { _protocol: { exec(id: number, cmd: string, want: boolean): void; shell(id: number, want: boolean): void; openssh_agentForward(id: number, want: boolean): void } })._protocol;
  const id = (shell as unknown as { outgoing: { id: number } }).outgoing.id;
  proto.exec(id, `touch ${touchedRaw}`, false); // exec on the running shell's own channel
  proto.shell(id, false); // a second shell on the same channel
  proto.openssh_agentForward(id, false);
  const later = await outcome('a second session', (cb) => client.exec(`touch ${touchedLater}`, cb));
  assert.ok(later.err, 'a session after the shell is refused');

  const want = (d: Record<string, unknown>) => (e: Record<string, unknown>) =>
    Object.entries(d).every(([k, v]) => e[k] === v);
  const expected: Record<string, unknown>[] = [
    { request: 'exec', command: `touch ${touched}` },
    { request: 'exec', command: `touch ${touchedEnv}` },
    { request: 'env', key: 'EVIL_ENV' },
    { request: 'subsystem', name: 'sftp' },
    { request: 'subsystem', name: 'netconf' },
    { request: 'x11' },
    { request: 'auth-agent' },
    { request: 'env', key: 'LD_PRELOAD' },
    { request: 'shell' },
    { request: 'direct-tcpip', port: 22 },
    { request: 'tcpip-forward' },
    { request: 'direct-streamlocal', path: '/run/dbus/system_bus_socket' },
    { request: 'streamlocal-forward@openssh.com' },
    { request: 'signal', name: 'KILL' },
    { request: 'exec', command: `touch ${touchedRaw}` },
    { request: 'session' },
  ];
  await until('a request-refused event for every attempt', () =>
    expected.every((d) => refusals(friend).some(want(d))), 5000).catch(() => {});
  const got = refusals(friend);
  for (const d of expected) assert.ok(got.some(want(d)), `request-refused for ${JSON.stringify(d)}; got ${JSON.stringify(got)}`);
  assert.ok(got.filter(want({ request: 'shell' })).length >= 2, 'both second-shell attempts are reported');
  assert.ok(got.filter(want({ request: 'auth-agent' })).length >= 2, 'both agent forwarding attempts are reported');
  assert.match(friend.output(), /refused/, 'the friend is told on the screen');

  // The one shell still works, and none of it ran a command.
  await until('the shell\'s first output', () => /\S/.test(seen()));
  shell.write('echo ok-$((1+1)) LD_PRELOAD=[$LD_PRELOAD]\r');
  await until('ok-2 over the channel', () => seen().includes('ok-2 LD_PRELOAD=[]'));
  for (const f of [touched, touchedEnv, touchedRaw, touchedLater]) assert.ok(!fs.existsSync(f), `${f} was never created`);

  const closed = new Promise<void>((r) => client.once('close', () => r()));
  friend.write(HOTKEY);
  const f = await exitOf(friend);
  assert.equal(f.code, EXIT.hotkey);
  await within('the attacker\'s connection to close', closed);
  const pid = Number(started.pid);
  await until(`the session of ${pid} to be gone`, () => sessionProcesses(pid).length === 0, 5000);
  for (const f of [touched, touchedEnv, touchedRaw, touchedLater]) assert.ok(!fs.existsSync(f), `${f} was never created`);
});

test('a man in the middle: the two codes differ, the helper refuses after 3 tries, no session anywhere', async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const helperPort = await listeningPort(helper);

  // The proxy: responder (posing as the helper) towards the friend, committer (posing as the
  // friend) towards the helper, each leg with a key of its own.
  const legs: Attack[] = [];
  let toHelper: Promise<Attack> | null = null;
  const proxy = net.createServer((socket) => {
    void acceptHandshake(socket, 'helper').then((a) => legs.push(a), () => {});
    toHelper ??= dialHandshake(helperPort, 'friend');
  });
  t.after(() => {
    proxy.close();
    for (const a of legs) a.link.stream.destroy();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const proxyPort = (proxy.address() as net.AddressInfo).port;
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${proxyPort}`]);

  const friendCode = String((await friend.waitEvent('code-shown')).code);
  const helperCode = String((await helper.waitEvent('code-shown')).code);
  const helperLeg = await within('the proxy\'s leg to the helper', toHelper!);
  legs.push(helperLeg);
  t.after(() => helperLeg.link.stream.destroy());
  assert.equal(helperLeg.verifying.code, helperCode);
  assert.notEqual(friendCode, helperCode, 'the friend and the helper see different codes');

  // The friend reads their code; the helper types it three times.
  await helper.waitFor('Type the five symbols');
  helper.write(`${friendCode}\r`);
  await helper.waitFor('That code does NOT match');
  helper.write(`${friendCode.toLowerCase()}\r`);
  helper.write(`${friendCode.split('').join(' ')}\r`);
  const h = await exitOf(helper);
  assert.equal(h.code, EXIT.code, 'the helper stops with the "code" status');
  await helper.waitFor('did not match 3 times');
  await assert.rejects(within('the proxy\'s helper leg to fail', helperLeg.verifying.finished), 'the helper\'s side never hands the proxy a verified stream');

  friend.write('n\r');
  const f = await exitOf(friend);
  assert.equal(f.code, EXIT.cancelled, 'the friend stopped at the code');
  for (const s of [friend, helper]) {
    assert.ok(!has(s, 'session-started'), `no session on the ${s.name}'s side`);
    assert.ok(!has(s, 'ssh-ready'), `no SSH on the ${s.name}'s side`);
  }
  assert.ok(!has(helper, 'confirmed'), 'the helper never confirmed');
  assert.ok(!has(friend, 'peer-confirmed'), 'the friend was never told the helper confirmed');
});

test('SSH login with any key other than the verified one is refused: no session on the friend', async (t) => {
  const verified = freshKey();
  const other = freshKey();
  const { friend, attack } = await friendAndAttackerHelper(t, verified);
  const { stream, peer } = await friendConfirms(friend, attack);
  const tried: string[] = [];
  const forger = new ForgingAgent(parsed(verified), parsed(other));
  const attempts = [
    { type: 'none', username: 'mallory' },
    { type: 'password', username: 'mallory', password: 'hunter2' },
    { type: 'keyboard-interactive', username: 'mallory', prompt: (_n: unknown, _i: unknown, _l: unknown, _p: unknown, finish: (a: string[]) => void) => finish(['hunter2']) },
    { type: 'publickey', username: 'mallory', key: other.privateKey },
    // Claims the verified public key but proves it with another private key.
    { type: 'agent', username: 'mallory', agent: forger },
  ];
  const authHandler = (_left: unknown, _partial: unknown, next: (a: unknown) => void) => {
    const a = attempts.shift();
    if (a) tried.push(a.type);
    next(a ?? false);
  };
  await assert.rejects(sshClient(stream, { hostKey: peer.publicKey, authHandler }), /authentication/i);
  assert.deepEqual(tried, ['none', 'password', 'keyboard-interactive', 'publickey', 'agent'], 'every method was tried');
  assert.ok(forger.signed >= 1, 'the forged proof reached the signature check (the verified blob itself passed the key check)');
  const f = await exitOf(friend);
  assert.notEqual(f.code, EXIT.ok);
  assert.ok(!has(friend, 'session-started'), 'no session on the friend');
  assert.equal(friend.events().find((e) => e.event === 'session-ended')?.reason, 'connection-lost');
});

test('an imposter friend with a host key other than the verified one: the real helper refuses it', async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const attack = await dialHandshake(port, 'friend');
  t.after(() => attack.link.stream.destroy());
  const shown = await helper.waitEvent('code-shown');
  assert.equal(shown.code, attack.verifying.code);
  await helper.waitFor('Type the five symbols');
  helper.write(`${attack.verifying.code}\r`);
  await helper.waitFor('Ask your friend to press y');
  attack.verifying.confirm();
  const { stream } = await within('the imposter\'s handshake to finish', attack.verifying.finished);
  const imposter = fakeFriendServer(stream, freshKey().privateKey);
  t.after(() => imposter.close());
  const h = await exitOf(helper);
  assert.notEqual(h.code, EXIT.ok, 'the helper stops');
  assert.ok(!has(helper, 'ssh-ready'), 'no SSH on the helper');
  assert.ok(!has(helper, 'session-started'), 'no session on the helper');
  assert.deepEqual(imposter.authAttempts, [], 'the helper never tried to log in to the imposter');
  await within('the imposter\'s connection to close', imposter.closed);
  // Known bug (src/net/ssh-helper.ts): the wrong host key surfaces as a plain Error, which run.ts
  // turns into "an unexpected problem" with the "internal" status (1) and advice to send --debug
  // output "to the helper". It is a failed check of the verified key: say so, and exit "protocol".
  assert.equal(h.code, EXIT.protocol,
    `BUG: a host key other than the verified one must exit with the protocol status (7), not ${h.code} (1 = internal error)`);
  assert.match(helper.output().split('== Finished ==').pop()!, /key|middle/i, 'BUG: the helper is told the friend\'s key did not match the one checked with the code');
});

test('bytes a helper sends after its CONFIRMED but before the friend\'s y never reach a shell', async (t) => {
  const { friend, attack } = await friendAndAttackerHelper(t);
  const touched = marker(t, 'early');
  attack.verifying.confirm();
  // Straight onto the socket, right behind the CONFIRMED frame: shell text, then SSH-looking bytes.
  attack.link.stream.write(`touch ${touched}\n`);
  attack.link.stream.write(`SSH-2.0-OpenSSH_9.2\r\ntouch ${touched}\r\n`);
  await friend.waitEvent('peer-confirmed');
  assert.ok(!has(friend, 'session-started'), 'nothing starts before the friend presses y');
  assert.ok(!has(friend, 'ssh-ready'));
  friend.write('y\r');
  // The early bytes reach the friend's SSH server as the client's first bytes. They are not an
  // SSH greeting, so it gives up: it says its own greeting and closes its sending side.
  const { stream } = await within('the attacker\'s handshake to finish', attack.verifying.finished);
  const heard = collect(stream);
  await within('the friend\'s SSH server to give up', new Promise((r) => stream.once('end', r)));
  assert.match(heard(), /^SSH-2\.0-/, 'what came back is the SSH server\'s greeting, not a shell');
  assert.ok(!has(friend, 'session-started'), 'no session started from those bytes');
  stream.destroy();
  const f = await exitOf(friend);
  assert.equal(f.code, EXIT.lost);
  assert.ok(!has(friend, 'session-started'), 'no session started from those bytes');
  assert.ok(!fs.existsSync(touched), 'the command never ran');
});

test('a helper that floods before the friend\'s y is dropped at the handshake', async (t) => {
  const { friend, attack } = await friendAndAttackerHelper(t);
  attack.verifying.confirm();
  attack.link.stream.write(Buffer.alloc(300 * 1024, 'A'));
  const f = await exitOf(friend);
  assert.equal(f.code, EXIT.protocol, 'more than 256 KiB before the friend confirmed ends the handshake');
  await friend.waitFor('too much data');
  assert.ok(!has(friend, 'session-started') && !has(friend, 'confirmed'));
});

test('what the real helper types before the friend\'s y (whole lines and a partial one) never reaches the shell', async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${port}`]);
  const touched = marker(t, 'typed-early');
  const shown = await friend.waitEvent('code-shown');
  await helper.waitFor('Type the five symbols');
  helper.write(`${shown.code}\r`);
  await helper.waitFor('Ask your friend to press y');
  helper.write(`touch ${touched}\r`);
  helper.write('echo partial-$((9*9))');
  await helper.waitFor('partial-$((9*9))'); // the helper's own terminal has echoed it: it is in the pty
  friend.write('y\r');
  const pid = Number((await friend.waitEvent('session-started')).pid);
  await helper.waitEvent('session-started');
  await until('the shell prompt on the helper side', () => {
    const out = helper.output();
    const i = out.lastIndexOf(BANNER);
    return i >= 0 && /\S/.test(out.slice(i + BANNER.length));
  });
  // Had the partial line reached the shell, this would run as "echo partial-$((9*9))echo mark-...".
  helper.write('echo mark-$((3+4))\r');
  await friend.waitFor('mark-7');
  const screen = friend.output().slice(friend.output().indexOf('Step 7 of 7'));
  assert.ok(!screen.includes('partial'), `the partial line did not reach the shell: ${JSON.stringify(screen.slice(-300))}`);
  assert.ok(!screen.includes('touch'), 'the whole line did not reach the shell');
  assert.ok(!fs.existsSync(touched), 'the whole line typed before y did not run');
  friend.write(HOTKEY);
  assert.equal((await exitOf(friend)).code, EXIT.hotkey);
  assert.equal((await exitOf(helper)).code, EXIT.hotkey);
  await until(`the session of ${pid} to be gone`, () => sessionProcesses(pid).length === 0, 5000);
});

/** Friend dials the waiting helper; both confirm; resolves once the shell is up on both sides. */
async function realSession(helper: Side, friend: Side) {
  const shown = await friend.waitEvent('code-shown');
  const helperShown = await helper.waitEvent('code-shown');
  assert.equal(helperShown.code, shown.code);
  await helper.waitFor('Type the five symbols');
  helper.write(`${shown.code}\r`);
  await helper.waitFor('Ask your friend to press y');
  friend.write('y\r');
  const started = await friend.waitEvent('session-started');
  await helper.waitEvent('session-started');
  return Number(started.pid);
}

async function garbage(t: TestContext, port: number, sends: (i: number) => Buffer | null, n: number): Promise<net.Socket[]> {
  const socks = await Promise.all(Array.from({ length: n }, () => rawConnect(port)));
  t.after(() => socks.forEach((s) => s.destroy()));
  socks.forEach((s, i) => {
    const bytes = sends(i);
    if (bytes) s.write(bytes);
  });
  return socks;
}

test('garbage on the helper\'s port never keeps the real friend out', async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  let helperGone = false;
  void helper.exited.then(() => (helperGone = true));

  const socks = [
    ...await garbage(t, port, () => randomBytes(1 + Math.floor(Math.random() * 300)), 50),
    ...await garbage(t, port, () => null, 20),
    ...await garbage(t, port, () => Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), 5),
    ...await garbage(t, port, () => Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 5),
    ...await garbage(t, port, () => Buffer.from([0xff, 0xff]), 1),
  ];
  assert.equal(socks.length, 81);
  await until('the helper to see all 81', () =>
    helper.events().filter((e) => e.event === 'connected' || e.event === 'rejected-connection').length >= 81);

  const friend = side(t, 'friend', ['friend', `127.0.0.1:${port}`]);
  const pid = await realSession(helper, friend);
  assert.ok(!helperGone, 'the helper is alive');
  await until('a rejected-connection for every garbage connection', () =>
    helper.events().filter((e) => e.event === 'rejected-connection').length >= 81, 5000);
  const reasons = helper.events().filter((e) => e.event === 'rejected-connection').map((e) => String(e.reason));
  assert.ok(reasons.some((r) => /HTTP/.test(r)), `HTTP is named: ${reasons.join(' | ')}`);
  assert.ok(reasons.some((r) => /plain SSH/.test(r)), 'plain SSH is named');
  assert.ok(reasons.some((r) => /65535 bytes is larger/.test(r)), 'the oversized frame is named');

  friend.write(HOTKEY);
  assert.equal((await exitOf(friend)).code, EXIT.hotkey);
  assert.equal((await exitOf(helper)).code, EXIT.hotkey);
  await until(`the session of ${pid} to be gone`, () => sessionProcesses(pid).length === 0, 5000);
});

test('more idle connections than the helper keeps pending do not keep the real friend out', async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  await garbage(t, port, () => null, 40);
  await until('the helper to see all 40', () =>
    helper.events().filter((e) => e.event === 'connected' || e.event === 'rejected-connection').length >= 40);
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${port}`]);
  const pid = await realSession(helper, friend);
  friend.write(HOTKEY);
  assert.equal((await exitOf(friend)).code, EXIT.hotkey);
  await exitOf(helper);
  await until(`the session of ${pid} to be gone`, () => sessionProcesses(pid).length === 0, 5000);
});
