// file_send_vs_scp, file_fetch_vs_scp: a file of random bytes copied through the shared shell
// (~s and ~g: typed and printed as base64, checked by SHA-256 on both sides) next to scp over the
// benchmark's OpenSSH server, both ways. Timed from the escape typed to the helper's "Sent" or
// "Fetched" (the friend's y to a fetch is pressed by the harness as soon as it is asked), and
// from scp's start to its exit. Every copy is checked byte for byte here too.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { C, ROUNDS } from '../options';
import { now, tempDir, until } from '../processes';
import { record } from '../results';
import { alternate, SHELL_HOME, withPair, type Pair, type Scenario } from '../sessions';
import type { Sshd } from '../sshd';

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** scp from `from` to `to`: milliseconds. Not spawnSync: the benchmark's sshd accepts its
 * connections in this process (sshd.ts). */
async function scp(sshd: Sshd, from: string, to: string): Promise<number> {
  const args = ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes',
    '-i', sshd.key, '-P', String(sshd.port), from, to];
  const t0 = now();
  const child = spawn('scp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`scp failed (${code}): ${err.trim()}`);
  return now() - t0;
}

/** Milliseconds for one copy through the shell, `way` as the helper types it: until the helper's
 * events log says it ended (its status line is painted as changes, so the screen is no place to
 * wait for words). */
async function copy(p: Pair, way: 's' | 'g', from: string, to: string): Promise<number> {
  const ended = () => p.events('helper').filter((e) => e.event === 'file-copy');
  const asked = () => p.events('friend').filter((e) => e.event === 'file-asked').length;
  const [before, askedBefore] = [ended().length, asked()];
  const t0 = now();
  p.helper.write(`\r~${way}`);
  p.helper.write(`${from}\r`);
  p.helper.write(`${to}\r`);
  if (way === 'g') {
    await until('the friend to be asked', () => asked() > askedBefore, 60_000, 2);
    p.friend.write('y');
  }
  const last = await until('the copy to end', () => ended()[before], 600_000, 2);
  if (!last.ok) throw new Error(`the copy failed: ${String(last.text)}`);
  return now() - t0;
}

export const files: Scenario = {
  name: 'files',
  async run(sshd) {
    const here = tempDir('remote-help-bench-files-');
    const source = path.join(here, 'source.bin');
    fs.writeFileSync(source, randomBytes(C.fileBytes));
    const digest = sha(source);
    const mb = C.fileBytes / 1e6;
    const check = (file: string) => {
      if (sha(file) !== digest) throw new Error(`${file} arrived different from what was sent`);
      fs.rmSync(file);
    };
    const rate = (ms: number) => mb / (ms / 1000);
    let n = 0;
    const [rhSend, scpSend] = await alternate(ROUNDS,
      () => withPair(null, async (p) => {
        const name = `sent-${++n}.bin`;
        fs.copyFileSync(source, path.join(here, name));
        const ms = await copy(p, 's', path.join(here, name), '');
        check(path.join(SHELL_HOME, name));
        fs.rmSync(path.join(here, name));
        return rate(ms);
      }),
      async () => {
        const to = path.join(SHELL_HOME, `scp-${++n}.bin`);
        const ms = await scp(sshd, source, `root@127.0.0.1:${to}`);
        check(to);
        return rate(ms);
      });
    const [rhFetch, scpFetch] = await alternate(ROUNDS,
      () => withPair(null, async (p) => {
        const name = `there-${++n}.bin`;
        fs.copyFileSync(source, path.join(SHELL_HOME, name));
        const ms = await copy(p, 'g', name, path.join(here, name));
        check(path.join(here, name));
        fs.rmSync(path.join(SHELL_HOME, name));
        return rate(ms);
      }),
      async () => {
        const to = path.join(here, `scp-${++n}.bin`);
        const ms = await scp(sshd, `root@127.0.0.1:${source}`, to);
        check(to);
        return rate(ms);
      });
    const note = `${mb} MB of random bytes (gzip does not help), SHA-256 checked on both sides; typed or printed as base64 in the friend's view`;
    record('file_send_vs_scp', 'MB/s', rhSend, 'scp', scpSend, { better: 'higher', target: 'reported (no target)', met: () => null, note });
    record('file_fetch_vs_scp', 'MB/s', rhFetch, 'scp', scpFetch, { better: 'higher', target: 'reported (no target)', met: () => null, note: `${note}; the friend's y is pressed at once` });
  },
};
