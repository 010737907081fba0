// A bounded slice of the handshake fuzzer (test/fuzz-handshake.ts); `npm run fuzz` runs a million
// cases and more. The seed changes with each run unless FUZZ_SEED is set; it is printed on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, replayHint, SYSTEMATIC_CASES } from '../scripts/fuzz-handshake';

const CASES = Number(process.env.FUZZ_CASES ?? 20_000);

test(`handshake fuzz: ${CASES} cases (every message type in every phase, mutated transcripts, random bytes)`, () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
  const t0 = Date.now();
  const r = fuzz(seed, 0, CASES);
  const detail = r.failures.map((f) => `case ${f.index}: ${f.error}\n  ${replayHint(seed, f.index)}`).join('\n');
  assert.equal(r.failures.length, 0, `seed ${seed}:\n${detail}`);
  assert.equal(r.cases, CASES);
  assert.ok(r.byKind.systematic === SYSTEMATIC_CASES, 'every message type in every phase was tried');
  assert.ok((r.outcomes.failed ?? 0) > 0 && (r.outcomes.code ?? 0) > 0, `both rejections and codes were reached: ${JSON.stringify(r.outcomes)}`);
  assert.ok(Date.now() - t0 < 60_000, 'the slice stays bounded');
});
