// remote-help against OpenSSH, side by side in one run (issue 5).
//   npm run bench [-- --quick] [--json FILE] [--rounds N] [--only a,b] [--profile DIR] [--poor-cap MS]
// Starts its own sshd on a loopback port the system picks, runs every scenario for remote-help and
// its baseline in alternation, prints medians, spreads and ratios. Everything it starts is killed.
// The scenarios are in scenarios/, the sessions they time in sessions.ts (over proxy.ts, sshd.ts,
// term.ts), the figures in results.ts, what is started and its cleanup in processes.ts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JSON_FILE, ONLY, QUICK, ROUNDS } from './options';
import { ROOT, cleanupAll, now, reaped } from './processes';
import { log, machine, rows, table } from './results';
import { scenarios } from './scenarios';
import { SHELL_HOME } from './sessions';
import { startSshd } from './sshd';

function ensureBuilt() {
  const newest = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = path.join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
  const cli = path.join(ROOT, 'dist', 'cli.js');
  if (fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= newest(path.join(ROOT, 'src'))) return;
  log('building dist/ (npx tsc -p .)');
  const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the build failed');
}

async function main() {
  const started = now();
  ensureBuilt();
  const sshd = await startSshd(SHELL_HOME);
  log(`remote-help benchmark${QUICK ? ' (--quick)' : ''}: ${ROUNDS} round(s); sshd on 127.0.0.1:${sshd.port}`);
  log(`machine: ${machine()}`);
  for (const s of scenarios) {
    if (ONLY && !ONLY.includes(s.name)) continue;
    log(`${s.name}...`);
    await s.run(sshd);
  }
  log('');
  log(table());
  log(`\n${((now() - started) / 1000).toFixed(0)} s in all. Ratio = remote-help / baseline (for MB/s higher is better, else lower).`);
  if (JSON_FILE) fs.writeFileSync(JSON_FILE, JSON.stringify(rows, null, 2) + '\n');
}

let exiting = false;
function finish(code: number) {
  if (exiting) return;
  exiting = true;
  cleanupAll();
  void reaped().then(() => process.exit(code));
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => finish(130));
main().then(() => finish(0), (err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  finish(1);
});
