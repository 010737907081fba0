// `npm run fuzz`: the handshake fuzzer (test/fuzz-handshake.ts) over many cases, split across
// worker processes. Options: --cases N (default 1,000,000), --seed S (default: random, printed),
// --from I (first case index), --workers W (default: the number of CPUs, at most 4),
// --max-minutes M (default 10: the run fails if it takes longer).
// Exit status 0 when every case held every invariant; 1 otherwise, with the seed and case
// indexes to replay.
import { fork } from 'node:child_process';
import * as os from 'node:os';
import { fuzz, replayHint, type FuzzReport } from './fuzz-handshake';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number`);
  return Math.floor(n);
}

if (process.env.FUZZ_WORKER) {
  // A worker: runs its slice in batches, reporting progress so the parent can spot a hang.
  const [seed, from, cases] = process.env.FUZZ_WORKER.split(',').map(Number);
  const total: FuzzReport = { seed, from, cases: 0, failures: [], maxCaseMs: 0, byKind: {}, outcomes: {} };
  const BATCH = 5000;
  for (let i = from; i < from + cases && total.failures.length < 10; i += BATCH) {
    const r = fuzz(seed, i, Math.min(BATCH, from + cases - i));
    total.cases += r.cases;
    total.failures.push(...r.failures);
    total.maxCaseMs = Math.max(total.maxCaseMs, r.maxCaseMs);
    for (const [k, v] of Object.entries(r.byKind)) total.byKind[k] = (total.byKind[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.outcomes)) total.outcomes[k] = (total.outcomes[k] ?? 0) + v;
    process.send!({ progress: total.cases, at: i + r.cases });
  }
  process.send!({ done: total });
  process.exit(0);
} else {
  void main();
}

async function main() {
  const cases = arg('cases', 1_000_000);
  const seed = arg('seed', Math.floor(Math.random() * 0x7fffffff));
  const from = arg('from', 0);
  const workers = Math.max(1, Math.min(arg('workers', Math.min(4, os.availableParallelism())), cases));
  const maxMs = arg('max-minutes', 10) * 60_000;
  console.log(`fuzzing the handshake: ${cases} cases from ${from}, seed ${seed}, ${workers} workers`);
  const t0 = Date.now();
  const per = Math.ceil(cases / workers);
  const reports: FuzzReport[] = [];
  const stuck: string[] = [];
  await Promise.all(Array.from({ length: workers }, (_, w) => new Promise<void>((resolve) => {
    const start = from + w * per;
    const n = Math.max(0, Math.min(per, from + cases - start));
    const child = fork(__filename, [], { env: { ...process.env, FUZZ_WORKER: `${seed},${start},${n}` } });
    let last = Date.now();
    let at = start;
    // A batch of 5000 cases takes about a second; 60 s without progress is a hang.
    const watchdog = setInterval(() => {
      if (Date.now() - last > 60_000) {
        stuck.push(`worker ${w} made no progress for 60 s after case ${at} (${replayHint(seed, at)} --cases 5000)`);
        child.kill('SIGKILL');
      }
      if (Date.now() - t0 > maxMs) {
        stuck.push(`worker ${w} still running after ${maxMs / 60_000} minutes`);
        child.kill('SIGKILL');
      }
    }, 1000);
    child.on('message', (m: { progress?: number; at?: number; done?: FuzzReport }) => {
      last = Date.now();
      if (m.at !== undefined) at = m.at;
      if (m.done) reports.push(m.done);
    });
    child.on('exit', () => {
      clearInterval(watchdog);
      resolve();
    });
  })));
  const secs = (Date.now() - t0) / 1000;
  const done = reports.reduce((n, r) => n + r.cases, 0);
  const failures = reports.flatMap((r) => r.failures);
  const byKind: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
  const outcomes: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  const maxCase = Math.max(0, ...reports.map((r) => r.maxCaseMs));
  console.log(`${done} cases in ${secs.toFixed(1)} s (${Math.round(done / secs)}/s), slowest case ${maxCase.toFixed(1)} ms`);
  console.log(`by kind: ${JSON.stringify(byKind)}; machine outcomes: ${JSON.stringify(outcomes)}`);
  for (const f of failures) console.log(`FAILED case ${f.index} (seed ${seed}): ${f.error}\n  ${replayHint(seed, f.index)}`);
  for (const s of stuck) console.log(`HANG: ${s}`);
  const ok = failures.length === 0 && stuck.length === 0 && done === cases;
  if (!ok && done !== cases) console.log(`only ${done} of ${cases} cases ran`);
  console.log(ok ? 'fuzz: all invariants held' : `fuzz: FAILED (seed ${seed})`);
  process.exit(ok ? 0 : 1);
}
