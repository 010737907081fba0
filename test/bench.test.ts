// The benchmark never runs inside `npm test`, but its --quick mode does, so it cannot rot: every
// scenario must come out with finite numbers. (Speed targets are not asserted here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SCENARIOS = [
  'echo_p50', 'echo_p99', 'bulk_vs_openssh', 'bulk_vs_local_pty',
  'memory_friend_idle', 'memory_helper_idle', 'memory_friend_bulk', 'memory_helper_bulk',
  'connect', 'first_screen', 'kill_flood', 'ctrlc_flood_reading', 'ctrlc_flood_stalled',
  'poor_echo_p50', 'poor_ctrlc_flood', 'poor_connect', 'poor_connect_round_trips', 'poor_reconnect',
  'poor_reconnect_round_trips',
  'file_send_vs_scp', 'file_fetch_vs_scp',
];

const haveOpenSsh = fs.existsSync('/usr/sbin/sshd') && spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0;
const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

test('npm run bench -- --quick --json FILE gives every scenario with finite numbers', {
  timeout: 175_000,
  skip: haveOpenSsh || canInstall ? false : 'OpenSSH is missing and cannot be installed here (not root)',
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-help-bench-test-'));
  const out = path.join(dir, 'bench.json');
  try {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', '--quick', '--json', out], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let log = '';
    child.stdout.on('data', (d) => (log = (log + d).slice(-20_000)));
    child.stderr.on('data', (d) => (log = (log + d).slice(-20_000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGTERM'); // the bench kills what it started on SIGTERM
      } catch {
        // gone
      }
    }, 170_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    assert.equal(code, 0, `the bench failed:\n${log}`);
    const rows = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>[];
    assert.deepEqual(rows.map((r) => r.scenario).sort(), [...SCENARIOS].sort());
    for (const r of rows) {
      for (const k of ['remote_help', 'ratio']) assert.ok(Number.isFinite(r[k]), `${r.scenario}.${k} = ${r[k]}`);
      const base = r.openssh ?? r.baseline;
      assert.ok(Number.isFinite(base), `${r.scenario} baseline = ${base}`);
      assert.equal(typeof r.unit, 'string');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
