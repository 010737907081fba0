// The meeting point's use of the system's OpenSSH client (meeting.ts): which server an alias
// stands for (`ssh -G`), running ssh without ever letting it ask the person anything (BatchMode:
// a new host key is never accepted silently, and a password prompt cannot hide under the screens),
// and what ssh said when it failed, in plain words with the one thing to do.
import { spawn } from 'node:child_process';
import { HelpError } from '../errors';
import { formatAddress } from './address';
import { parseVia } from './meeting-word';

export interface Via {
  /** The ssh command and its own options ($REMOTE_HELP_SSH, else "ssh"). */
  ssh: string[];
  /** What the helper gave, without the port: an alias of ~/.ssh/config, USER@HOST, ... */
  dest: string;
  /** What ssh resolves it to. */
  host: string;
  port: number;
  user: string;
}

function sshCommand(): string[] {
  const c = process.env.REMOTE_HELP_SSH?.trim();
  return c ? c.split(/\s+/) : ['ssh'];
}

/** ssh's arguments for `via` (without the command itself): never asks, fails fast. */
export function sshArgs(via: Via, extra: string[], command: string[] = []): string[] {
  return [...via.ssh.slice(1), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-p', String(via.port), ...extra, via.dest, ...command];
}

function runSsh(ssh: string[], args: string[], input: string | null, timeoutMs: number): Promise<{ code: number | null; out: string; said: string }> {
  return new Promise((resolve) => {
    const child = spawn(ssh[0], args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let said = '';
    child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-65536)));
    child.stderr!.on('data', (b: Buffer) => (said = (said + b.toString()).slice(-8192)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      said += `\n${err.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, said });
    });
    if (input !== null) child.stdin!.end(input);
  });
}

/** Runs a POSIX sh script on the server (whatever the account's login shell is). */
export function runRemote(via: Via, script: string, timeoutMs = 30_000) {
  return runSsh(via.ssh, sshArgs(via, ['-T'], ['sh', '-s']), script, timeoutMs);
}

/** [USER@]HOST[:PORT] as ssh would use it: aliases and defaults of ~/.ssh/config applied. */
export async function resolveVia(text: string): Promise<Via> {
  const { user, ...where } = parseVia(text);
  const ssh = sshCommand();
  const dest = user ? `${user}@${where.host}` : where.host;
  const r = await runSsh(ssh, [...ssh.slice(1), '-G', ...(where.port ? ['-p', String(where.port)] : []), dest], null, 10_000);
  const get = (key: string) => new RegExp(`^${key} (.+)$`, 'm').exec(r.out)?.[1]?.trim();
  const host = get('hostname');
  const port = Number(get('port'));
  if (r.code !== 0 || !host || !(port > 0)) {
    if (/ENOENT/.test(r.said))
      throw new HelpError('usage', 'remote-help needs the ssh program to meet through a server, and it is not installed.', 'Install it (Debian: apt-get install openssh-client), then start again.');
    throw new HelpError('usage', `ssh could not make sense of "${text}": ${lastLine(r.said)}`, 'Check it with: ssh -G ' + dest);
  }
  return { ssh, dest, host, port, user: get('user') ?? user };
}

function lastLine(said: string): string {
  const lines = said.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^(debug\d|OpenSSH_|Pseudo-terminal)/.test(l));
  return lines[lines.length - 1] ?? 'no reason given';
}

/** What ssh's messages mean for the helper. `listen`: the forward that was asked for, if any. */
export function sshFailure(via: Via, said: string, code: number | null, listen: string | null): HelpError {
  const server = formatAddress({ host: via.host, port: via.port });
  const login = `ssh -p ${via.port} ${via.dest}`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(said))
    return new HelpError('connect', `The server ${server} shows a different key from the one you accepted before: someone may be in the middle, or the server was reinstalled. remote-help stopped.`,
      `Ask whoever runs it. Only if it was reinstalled: ssh-keygen -R ${via.host}, then log in once with "${login}" and check the new key.`);
  if (/Host key verification failed|No \S+ host key is known|authenticity of host/.test(said))
    return new HelpError('connect', `You have not logged in to ${server} before, and remote-help never accepts a server's key for you.`,
      `Log in once with "${login}", check the key it shows and answer yes, then start remote-help again.`);
  if (/Permission denied/.test(said))
    return new HelpError('connect', `The server ${server} refused your login as ${via.user}.`,
      `remote-help logs in the way "ssh -o BatchMode=yes" does: it cannot type a password or a passphrase. Load your key with ssh-add (or check the user name), then try "${login}".`);
  if (/Could not resolve hostname/.test(said))
    return new HelpError('connect', `The name ${via.host} could not be found.`, 'Check the spelling, or use the server\'s numeric address.');
  if (/Connection refused/.test(said))
    return new HelpError('connect', `No SSH server answers at ${server}.`, 'Check the server\'s address and SSH port (USER@HOST:PORT).');
  if (/timed out|No route to host|Network is unreachable/.test(said))
    return new HelpError('connect', `The server ${server} could not be reached: ${lastLine(said)}.`, 'Check this computer\'s network and the server\'s address.');
  if (/remote port forwarding failed/.test(said))
    return new HelpError('connect', `The server ${server} would not listen on ${listen ?? 'the port'} for you: the port is in use there, or forwarding is not allowed.`,
      'Choose another port with --port. On the server, /etc/ssh/sshd_config must allow it with "AllowTcpForwarding yes" (or "remote"); then reload sshd.');
  if (code === null && !/ENOENT/.test(said))
    return new HelpError('connect', `The server ${server} did not set up the meeting point in time.`, 'Check the server, then start again.');
  return new HelpError('connect', `ssh could not meet at ${server}: ${lastLine(said)}`, `Check that "${login}" works, then start again.`);
}
