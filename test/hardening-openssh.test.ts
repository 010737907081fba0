// OpenSSH's own `ssh` as a hostile helper (issue 6, promise 4). The harness does the handshake
// in-process as the helper (test/attacker.ts), then bridges the verified stream to a loopback port
// that `ssh -o ProxyCommand=...` reaches, with the verified helper key in a 0600 file. One master
// connection (ControlMaster) carries every attempt: local, remote, dynamic and unix-socket
// forwarding, exec, sftp, scp, agent and X11 forwarding, SendEnv, then the one shell and a second
// session after it. All but the shell are refused, each is in the friend's event log, and none
// leaves a file or a process behind. Skipped when `ssh` is not installed (CI installs it).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { listeningPort, sessionProcesses, tempDir, until, sideFor } from './harness';
import { reservePort } from './ports';
import { dialHandshake, rawConnect, within } from './attacker';
import { EXIT } from '../src/errors';

const HAVE_SSH = spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;
const HOTKEY = Buffer.from([0x1b, 0x03]);

const side = sideFor;

/** Runs a command without blocking this process (the bridge lives here); killed after `ms`. */
function run(t: TestContext, cmd: string, args: string[], env: NodeJS.ProcessEnv, ms = 15_000) {
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  // 'exit', not 'close': a ControlMaster client hands its stdio to the master, so the pipes may
  // stay open after it has exited.
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }));
  return { child: child as ChildProcess, done, out: () => out };
}

test('OpenSSH ssh with the verified helper key: forwarding, exec, sftp, scp, agent, X11, env all refused; one shell only', { skip: !HAVE_SSH && 'ssh is not installed' }, async (t) => {
  const friend = side(t, 'friend', ['friend', '--reverse', '--port', '0']);
  const port = await listeningPort(friend);
  const attack = await dialHandshake(port, 'helper');
  t.after(() => attack.link.stream.destroy());
  const shown = await friend.waitEvent('code-shown');
  assert.equal(shown.code, attack.verifying.code);
  attack.verifying.confirm();
  await friend.waitEvent('peer-confirmed');
  friend.write('y\r');
  const { stream, peer } = await within('the handshake to finish', attack.verifying.finished);

  // The bridge: the first connection to it gets the verified stream.
  const bridge = net.createServer((sock) => {
    bridge.close();
    sock.on('error', () => {});
    sock.pipe(stream);
    stream.pipe(sock);
    stream.resume();
  });
  t.after(() => bridge.close());
  await new Promise<void>((r) => bridge.listen(0, '127.0.0.1', () => r()));
  const bridgePort = (bridge.address() as net.AddressInfo).port;

  const dir = tempDir('remote-help-openssh-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'id');
  fs.writeFileSync(keyFile, attack.key.privateKey, { mode: 0o600 });
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `friend ssh-ed25519 ${peer.publicKey.toString('base64')}\n`);
  const proxy = path.join(dir, 'proxy.js');
  fs.writeFileSync(proxy, `const s = require('net').connect(${bridgePort}, '127.0.0.1');
process.stdin.pipe(s); s.pipe(process.stdout);
s.on('close', () => process.exit(0)); s.on('error', () => process.exit(1));\n`);
  const ctl = path.join(dir, 'ctl');
  const marker = (n: string) => path.join(dir, `touched-${n}`);
  const remoteSock = path.join(dir, 'remote.sock');
  // Ports for ssh's own -L and -D listeners (ssh sets SO_REUSEADDR, so it may take a reserved port).
  const [lport, dport] = [await reservePort(t), await reservePort(t)];
  const env = {
    PATH: process.env.PATH, HOME: dir, DISPLAY: ':99', SSH_AUTH_SOCK: path.join(dir, 'no-agent.sock'), EVIL_ENV: '1', LANG: 'C',
  };
  const common = [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'HostKeyAlias=friend', '-o', `ControlPath=${ctl}`, '-o', 'LogLevel=ERROR',
    '-o', 'ForwardX11Trusted=yes', '-o', 'XAuthLocation=/nonexistent', '-l', 'mallory',
  ];

  // The master: the one SSH connection, asking for remote forwards (TCP and unix socket) at once.
  const master = run(t, 'ssh', [
    ...common, '-M', '-N', '-i', keyFile, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
    '-o', `ProxyCommand=${process.execPath} ${proxy}`, '-o', 'ExitOnForwardFailure=no', '-o', 'ControlPersist=no',
    '-o', 'ForwardAgent=yes', '-o', 'ForwardX11=yes', '-o', 'SendEnv=EVIL_ENV', '-o', 'SetEnv=EVIL_SET=1',
    '-L', `${lport}:127.0.0.1:22`, '-D', String(dport), '-R', '0:127.0.0.1:9', '-R', `${remoteSock}:127.0.0.1:9`, 'friend',
  ], env, 60_000);
  await until('the ssh master to be connected', () => fs.existsSync(ctl) || master.child.exitCode !== null, 15_000);
  assert.ok(fs.existsSync(ctl), `the ssh master connected: ${master.out()}`);

  // -L: a connection to the local port asks the friend for direct-tcpip to 127.0.0.1:22.
  const l = await rawConnect(lport);
  await within('the -L connection to close', new Promise((r) => l.once('close', r)));
  // -D: a SOCKS5 CONNECT to 127.0.0.1:80.
  const d = await rawConnect(dport);
  d.write(Buffer.from([5, 1, 0]));
  await within('the SOCKS greeting', new Promise((r) => d.once('data', r)));
  d.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]));
  await within('the -D connection to close', new Promise((r) => d.once('close', r)));

  const mux = async (args: string[], ms = 10_000) => {
    const t0 = Date.now();
    // ProxyCommand=false: should the master refuse, ssh falls back to a connection of its own.
    const r = await run(t, 'ssh', [...common, '-o', 'ProxyCommand=false', ...args], env, ms).done;
    t.diagnostic(`ssh ${args.join(' ')}: exit ${r.code} in ${Date.now() - t0} ms ${r.out.trim().slice(0, 120)}`);
    return r;
  };
  const exec = await mux(['friend', `touch ${marker('exec')}`]);
  assert.notEqual(exec.code, 0, 'exec fails');
  const sftp = await mux(['-s', 'friend', 'sftp']);
  assert.notEqual(sftp.code, 0, 'sftp fails');
  const extras = await mux(['-A', '-X', '-o', 'SendEnv=EVIL_ENV', 'friend', `touch ${marker('extras')}`]);
  assert.notEqual(extras.code, 0, 'exec with agent, X11 and env fails');
  const file = path.join(dir, 'payload');
  fs.writeFileSync(file, 'x');
  const scp = await run(t, 'scp', ['-O', '-o', 'ProxyCommand=false', ...common.filter((a) => a !== '-l' && a !== 'mallory'), file, `mallory@friend:${marker('scp')}`], env, 10_000).done;
  assert.notEqual(scp.code, 0, 'scp fails');
  // A remote forward added later through the master (ssh's exit status here does not tell; the
  // friend's log does, below).
  await mux(['-O', 'forward', '-R', `127.0.0.1:${await reservePort(t)}:127.0.0.1:9`, 'friend']);

  // The one shell, then a second session beside it.
  const shell = run(t, 'ssh', [...common, '-o', 'ProxyCommand=false', '-tt', 'friend'], env, 30_000);
  const started = await friend.waitEvent('session-started');
  const pid = Number(started.pid);
  await until('the shell over OpenSSH', () => /\S/.test(shell.out()), 5000);
  shell.child.stdin!.write('echo via-openssh-$((6*7))\r');
  await friend.waitFor('via-openssh-42');
  const second = await mux(['friend', `touch ${marker('second')}`]);
  assert.notEqual(second.code, 0, 'a second session fails');

  const want = (dd: Record<string, unknown>) => (e: Record<string, unknown>) => Object.entries(dd).every(([k, v]) => e[k] === v);
  const expected: Record<string, unknown>[] = [
    { request: 'tcpip-forward' },
    { request: 'streamlocal-forward@openssh.com' },
    { request: 'direct-tcpip', port: 22 },
    { request: 'direct-tcpip', port: 80 },
    { request: 'exec', command: `touch ${marker('exec')}` },
    { request: 'subsystem', name: 'sftp' },
    { request: 'x11' },
    { request: 'auth-agent' },
    { request: 'env', key: 'EVIL_ENV' },
    { request: 'env', key: 'EVIL_SET' },
    { request: 'exec', command: `touch ${marker('extras')}` },
    { request: 'exec', command: `scp -t ${marker('scp')}` },
    { request: 'session' },
  ];
  const refusals = () => friend.events().filter((e) => e.event === 'request-refused');
  await until('every attempt in the friend\'s log', () => expected.every((dd) => refusals().some(want(dd))), 5000).catch(() => {});
  const got = refusals();
  for (const dd of expected) assert.ok(got.some(want(dd)), `request-refused ${JSON.stringify(dd)}; got ${JSON.stringify(got.map((e) => ({ ...e, time: undefined })))}`);
  assert.ok(got.filter(want({ request: 'tcpip-forward' })).length >= 2, 'both remote forwards are reported');
  assert.match(friend.output(), /refused/);
  t.diagnostic(`OpenSSH attempts refused: ${got.length} request-refused events, ${expected.length} kinds`);

  friend.write(HOTKEY);
  assert.equal((await within('the friend to exit', friend.exited)).code, EXIT.hotkey);
  await within('the ssh master to end', master.done, 10_000);
  await until(`the session of ${pid} to be gone`, () => sessionProcesses(pid).length === 0, 5000);
  for (const n of ['exec', 'extras', 'scp', 'second']) assert.ok(!fs.existsSync(marker(n)), `${n}: nothing was created`);
  assert.ok(!fs.existsSync(remoteSock), 'no unix socket was created on the friend\'s side');
});
