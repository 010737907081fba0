// The benchmark's own OpenSSH server, the baseline of most scenarios, on a loopback port the
// system picks: a listener of ours on port 0 hands each connection to a fresh `sshd -i` (inetd
// mode), the socket itself as its stdin and stdout, so no byte passes through this process.
// (`sshd -D` execs a fresh sshd per connection too.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { descendants, killBottomUp, onCleanup, onExit, tempDir } from './processes';

export interface Sshd {
  port: number;
  /** Every live process of every connection: the per-connection sshd and all below it. */
  processes(): number[];
  key: string;
  sshArgs(port?: number): string[];
  stop(): void;
}

const SSHD = '/usr/sbin/sshd';

function ensureOpenSsh() {
  const have = () => fs.existsSync(SSHD) && spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;
  if (have()) return;
  if (process.getuid?.() !== 0) throw new Error('OpenSSH (sshd and ssh) is missing and we are not root to install it: apt-get install openssh-server openssh-client');
  process.stderr.write('bench: installing openssh-server and openssh-client with apt-get...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'openssh-server', 'openssh-client']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 600_000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
  if (!have()) throw new Error('OpenSSH is still missing after apt-get install');
}

export async function startSshd(shellHome: string): Promise<Sshd> {
  ensureOpenSsh();
  const dir = tempDir('remote-help-bench-sshd-');
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error('ssh-keygen failed');
  };
  const hostKey = path.join(dir, 'host_key');
  const key = path.join(dir, 'client_key');
  keygen(hostKey);
  keygen(key);
  fs.copyFileSync(`${key}.pub`, path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin yes',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp', // scp's own protocol since OpenSSH 9 (the files scenario)
    `SetEnv HOME=${shellHome} HISTFILE=/dev/null`, // the same empty HOME as remote-help's shells
    '',
  ].join('\n'));
  // The configuration is checked once up front, so a mistake is an error here, not a refused login.
  const check = spawnSync(SSHD, ['-t', '-f', config, '-h', hostKey], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`sshd -t failed: ${check.stderr}`);

  const conns = new Set<ChildProcess>();
  let err = '';
  // pauseOnConnect: this process never reads from the socket; sshd alone does.
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    const child = spawn(SSHD, ['-i', '-e', '-f', config, '-h', hostKey], { stdio: [sock, sock, 'pipe'] });
    sock.destroy(); // our copy of the socket; sshd has its own
    conns.add(child);
    onExit(new Promise((r) => child.once('exit', r)));
    child.once('exit', () => conns.delete(child));
    child.once('error', (e) => (err = (err + e.message).slice(-2000)));
    child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const processes = () => [...conns].flatMap((c) => (c.pid && c.exitCode === null && c.signalCode === null ? [c.pid, ...descendants(c.pid)] : []));
  const stop = () => {
    server.close();
    // Every per-connection sshd and its shell, children first.
    killBottomUp(processes());
  };
  onCleanup(stop);
  return {
    port,
    processes,
    key,
    sshArgs: (p = port) => ['-tt', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'BatchMode=yes', '-i', key, '-p', String(p), 'root@127.0.0.1'],
    stop,
  };
}
