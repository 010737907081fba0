// bulk_vs_openssh, bulk_vs_local_pty, memory_*: text printed by the shell as fast as it can, timed
// at the helper's terminal (at the ssh client's, at a local pty's); peak memory of each side.
import { C, ROUNDS } from '../options';
import { cpuSeconds, now, peakRssMB, sleep } from '../processes';
import { median, record } from '../results';
import { SHELL_ENV, withPair, withSsh, type Scenario } from '../sessions';
import { PROMPT, Term } from '../term';

/** Prints `bytes` of text in the shell; seconds until the end marker shows up here, and bytes seen. */
async function printed(t: Term, bytes: number): Promise<{ mbps: number; seconds: number; seen: number; harnessCpu: number }> {
  t.mark();
  const cpu0 = process.cpuUsage();
  const cmd = `yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab | head -c ${bytes}; echo; echo BULK-$((40+2))-END`;
  const b0 = t.bytes;
  const t0 = now();
  t.write(cmd + '\r');
  const t1 = await t.waitFor('BULK-42-END', 600_000, { screen: true });
  await t.waitFor(PROMPT, 20_000, { screen: true });
  const seconds = (t1 - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // The harness reads the screens itself: its share of one CPU says whether it limits the figure.
  return { seconds, mbps: bytes / 1e6 / seconds, seen: t.bytes - b0, harnessCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

export const bulk: Scenario = {
  name: 'bulk',
  async run(sshd) {
    const rh: number[] = [];
    const ssh: number[] = [];
    const local: number[] = [];
    const mem = { fi: [] as number[], hi: [] as number[], fb: [] as number[], hb: [] as number[], si: [] as number[], ci: [] as number[], sb: [] as number[], cb: [] as number[] };
    const seen: number[] = [];
    const hcpu = { rh: [] as number[], ssh: [] as number[], local: [] as number[] };
    const pcpu = { friend: [] as number[], helper: [] as number[] };
    const runRh = () => withPair(null, async (p) => {
      await sleep(200);
      mem.fi.push(peakRssMB(p.friend.pid));
      mem.hi.push(peakRssMB(p.helper.pid));
      const f0 = cpuSeconds(p.friend.pid);
      const h0 = cpuSeconds(p.helper.pid);
      const r = await printed(p.helper, C.bulkBytes);
      pcpu.friend.push((cpuSeconds(p.friend.pid) - f0) / r.seconds);
      pcpu.helper.push((cpuSeconds(p.helper.pid) - h0) / r.seconds);
      mem.fb.push(peakRssMB(p.friend.pid));
      mem.hb.push(peakRssMB(p.helper.pid));
      seen.push(r.seen / C.bulkBytes);
      hcpu.rh.push(r.harnessCpu);
      rh.push(r.mbps);
    });
    const sum = (pids: number[]) => pids.reduce((a, p) => a + (peakRssMB(p) || 0), 0);
    const runSsh = () => withSsh(sshd, null, async (s) => {
      await sleep(200);
      mem.si.push(sum(s.serverPids()));
      mem.ci.push(peakRssMB(s.client.pid));
      const r = await printed(s.client, C.bulkBytes);
      mem.sb.push(sum(s.serverPids()));
      mem.cb.push(peakRssMB(s.client.pid));
      hcpu.ssh.push(r.harnessCpu);
      ssh.push(r.mbps);
    });
    const runLocal = async () => {
      const t = new Term('script', 'script', ['-qfc', '/bin/bash', '/dev/null'], { env: SHELL_ENV });
      try {
        await t.waitFor(PROMPT, 20_000);
        const r = await printed(t, C.bulkBytes);
        hcpu.local.push(r.harnessCpu);
        local.push(r.mbps);
      } finally {
        t.kill();
      }
    };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [runRh, runSsh, runLocal] : [runLocal, runSsh, runRh];
      for (const f of order) await f();
    }
    const mb = (C.bulkBytes / 1e6).toFixed(0);
    const pct = (x: number[]) => `${(median(x) * 100).toFixed(0)}%`;
    const seenNote = `helper saw ${pct(seen)} of the bytes (with the ptys' CR); CPU of one core: friend ${pct(pcpu.friend)}, helper ${pct(pcpu.helper)}, harness ${pct(hcpu.rh)} (harness with OpenSSH ${pct(hcpu.ssh)}, local pty ${pct(hcpu.local)})`;
    record('bulk_vs_openssh', 'MB/s', rh, 'ssh -tt', ssh, { better: 'higher', target: '>= 1.0x OpenSSH', met: (_a, _b, r) => r >= 1.0, note: `${mb} MB printed in the shell, timed at the helper; ${seenNote}` });
    record('bulk_vs_local_pty', 'MB/s', rh, 'script (local pty)', local, { better: 'higher', target: '>= 0.9x local pty', met: (_a, _b, r) => r >= 0.9, note: `${mb} MB; ${seenNote}` });
    const memNote = 'peak RSS (VmHWM); OpenSSH server side = sum of its sshd processes for the connection';
    const le80 = (a: number) => a <= 80;
    record('memory_friend_idle', 'MB', mem.fi, 'sshd (server side)', mem.si, { target: '<= 80 MB', met: le80, note: memNote });
    record('memory_helper_idle', 'MB', mem.hi, 'ssh (client)', mem.ci, { target: '<= 80 MB', met: le80, note: memNote });
    record('memory_friend_bulk', 'MB', mem.fb, 'sshd (server side)', mem.sb, { target: '<= 80 MB', met: le80, note: memNote });
    record('memory_helper_bulk', 'MB', mem.hb, 'ssh (client)', mem.cb, { target: '<= 80 MB', met: le80, note: memNote });
  },
};
