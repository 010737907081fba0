// Results: each figure is recorded as a row (medians, spreads, the ratio to its baseline and its
// target), printed as it comes, and at the end as a table and, with --json, a file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
export const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export interface Row {
  scenario: string;
  unit: string;
  remote_help: number;
  baseline_name: string;
  baseline: number;
  openssh?: number;
  ratio: number;
  remote_help_range: [number, number];
  baseline_range: [number, number];
  better: 'lower' | 'higher';
  target: string;
  met: boolean | null;
  rounds: number;
  note?: string;
}
export const rows: Row[] = [];
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

export function record(scenario: string, unit: string, rh: number[], baselineName: string, base: number[], o: {
  better?: 'lower' | 'higher';
  target: string;
  met: (rh: number, base: number, ratio: number) => boolean | null;
  note?: string;
}) {
  const r = median(rh);
  const b = median(base);
  const ratio = r / b;
  const row: Row = {
    scenario, unit, remote_help: r, baseline_name: baselineName, baseline: b, ratio,
    remote_help_range: range(rh), baseline_range: range(base), better: o.better ?? 'lower',
    target: o.target, met: o.met(r, b, ratio), rounds: rh.length, note: o.note,
  };
  if (baselineName.startsWith('ssh')) row.openssh = b;
  rows.push(row);
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  log(`  ${scenario}: remote-help ${f(r)} ${unit} (${f(row.remote_help_range[0])}-${f(row.remote_help_range[1])}), ${baselineName} ${f(b)} (${f(row.baseline_range[0])}-${f(row.baseline_range[1])}), ratio ${ratio.toFixed(2)}${row.met === false ? '  MISSED: ' + o.target : ''}`);
}

export function log(s: string) {
  process.stdout.write(s + '\n');
}

export function table(): string {
  const f = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  const lines = [
    '| scenario | unit | remote-help median (min-max) | baseline | baseline median (min-max) | ratio | target | met |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.scenario} | ${r.unit} | ${f(r.remote_help)} (${f(r.remote_help_range[0])}-${f(r.remote_help_range[1])}) | ${r.baseline_name} | ${f(r.baseline)} (${f(r.baseline_range[0])}-${f(r.baseline_range[1])}) | ${r.ratio.toFixed(2)}x | ${r.target} | ${r.met === null ? '' : r.met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

export function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${os.cpus().length} CPUs (nproc ${spawnSync('nproc').stdout?.toString().trim()}), ${cpu}, Node ${process.version}, ${os.type()} ${os.release()}`;
}
