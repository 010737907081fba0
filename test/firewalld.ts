// firewalld for the firewall test (firewall.test.ts), only ever inside a network namespace the
// test made, on a D-Bus system bus of its own: a dbus-daemon with a socket in a temporary folder,
// which firewalld, firewall-cmd and remote-help reach through DBUS_SYSTEM_BUS_ADDRESS (this
// machine's own bus, where there is one, is never used). There is no polkit on that bus, so
// firewalld lets a caller change it when the caller is root (its decorators.py falls back to the
// caller's uid), as the test is. firewalld reads a configuration written to the folder (default
// zone public, nftables), keeps its working files in /run/firewalld on a tmpfs mounted in its own
// mount namespace (`ip netns exec` gives each command one) and logs to a file in the folder:
// nothing of it is left outside the folder, and its rules go with the namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { until } from './harness';

export const hasFirewalld = ['/usr/sbin/firewalld', '/usr/bin/firewall-cmd', '/usr/bin/dbus-daemon'].every((f) => fs.existsSync(f));

const busConfig = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const exited = (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

/** Stops a process of the test's: SIGTERM (firewalld then removes its rules), SIGKILL if it has
 * not gone within 10 seconds. */
async function stop(p: ChildProcess) {
  p.kill('SIGTERM');
  const gone = await Promise.race([exited(p).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  if (!gone) {
    p.kill('SIGKILL');
    await exited(p);
  }
}

/** Starts a private system bus and firewalld on it in `ns`; returns the environment that reaches
 * them. When the test ends, whatever happened, both are stopped and the folder removed. */
export async function startFirewalld(t: TestContext, ns: string): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-help-firewalld-'));
  const socket = path.join(dir, 'bus');
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  fs.writeFileSync(path.join(dir, 'bus.conf'), busConfig(socket));
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.writeFileSync(path.join(dir, 'etc', 'firewalld.conf'), 'DefaultZone=public\nFirewallBackend=nftables\nCleanupOnExit=yes\nLockdown=no\nLogDenied=off\n');
  const log = fs.openSync(path.join(dir, 'firewalld.log'), 'a');
  const started: ChildProcess[] = [];
  t.after(async () => {
    for (const p of started.reverse()) await stop(p);
    fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const inNs = (cmd: string, args: string[]) => {
    const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    started.push(p);
    return p;
  };
  inNs('dbus-daemon', [`--config-file=${path.join(dir, 'bus.conf')}`, '--nofork', '--nopidfile']);
  await until('the private bus', () => fs.existsSync(socket), 10_000);
  const firewalld = inNs('sh', ['-ec', `mount -t tmpfs tmpfs /run; exec firewalld --nofork --nopid --system-config ${dir}/etc --log-target console`]);
  const state = () => spawnSync('ip', ['netns', 'exec', ns, 'firewall-cmd', '--state'], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout.trim();
  const said = () => fs.readFileSync(path.join(dir, 'firewalld.log'), 'utf8').slice(-2000);
  await until('firewalld running', () => {
    if (firewalld.exitCode !== null) throw new Error(`firewalld ended: ${said()}`);
    return state() === 'running';
  }, 30_000);
  // It runs in the test's namespace, never in this machine's.
  if (fs.readlinkSync(`/proc/${firewalld.pid}/ns/net`) === fs.readlinkSync('/proc/self/ns/net')) throw new Error('firewalld is not in its namespace');
  return env;
}
