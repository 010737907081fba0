import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeSize, sharedSize } from '../src/session/size';

const fallback = { cols: 80, rows: 24 };

describe('sanitizeSize', () => {
  it('keeps a sane size', () => {
    assert.deepEqual(sanitizeSize({ cols: 132, rows: 43 }, fallback), { cols: 132, rows: 43 });
  });

  it('replaces each bad axis by the fallback independently', () => {
    assert.deepEqual(sanitizeSize({ cols: 0, rows: 50 }, fallback), { cols: 80, rows: 50 });
    assert.deepEqual(sanitizeSize({ cols: 120, rows: -3 }, fallback), { cols: 120, rows: 24 });
    assert.deepEqual(sanitizeSize({ cols: 1001, rows: 1000 }, fallback), { cols: 80, rows: 1000 });
    assert.deepEqual(sanitizeSize({ cols: NaN, rows: Infinity }, fallback), fallback);
    assert.deepEqual(sanitizeSize({ rows: 30 }, fallback), { cols: 80, rows: 30 });
  });

  it('rejects values that are not numbers at all', () => {
    const hostile = { cols: '100', rows: null } as unknown as { cols: number; rows: number };
    assert.deepEqual(sanitizeSize(hostile, fallback), fallback);
  });

  it('uses the fallback for a missing size', () => {
    assert.deepEqual(sanitizeSize(undefined, fallback), fallback);
    assert.deepEqual(sanitizeSize(null, fallback), fallback);
  });

  it('rounds fractional sizes down to whole cells', () => {
    assert.deepEqual(sanitizeSize({ cols: 100.9, rows: 1.5 }, fallback), { cols: 100, rows: 1 });
    assert.deepEqual(sanitizeSize({ cols: 0.5, rows: 24 }, fallback), { cols: 80, rows: 24 });
  });
});

describe('sharedSize', () => {
  it('is the friend size when no helper is connected', () => {
    assert.deepEqual(sharedSize({ cols: 100, rows: 30 }), { cols: 100, rows: 30 });
    assert.deepEqual(sharedSize({ cols: 100, rows: 30 }, null), { cols: 100, rows: 30 });
  });

  it('takes the smaller of the two terminals on each axis', () => {
    assert.deepEqual(sharedSize({ cols: 200, rows: 30 }, { cols: 80, rows: 50 }), { cols: 80, rows: 30 });
  });

  it('never goes below 2x2', () => {
    assert.deepEqual(sharedSize({ cols: 1, rows: 1 }, { cols: 80, rows: 24 }), { cols: 2, rows: 2 });
    assert.deepEqual(sharedSize({ cols: 1, rows: 40 }), { cols: 2, rows: 40 });
  });
});
