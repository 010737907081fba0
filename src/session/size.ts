// The shared pty's size (DESIGN.md section 4): "the pty size is the smaller of the two
// terminals on each axis", so nobody's screen wraps lines the other drew.

import type { TermSize } from '../shared';

export type { TermSize };

// A size outside this range is a broken or hostile report, not a terminal.
const MAX_AXIS = 1000;
// A 1x1 pty breaks full-screen programs outright; 2x2 is the least that still draws.
const MIN_SHARED = 2;

function axis(value: unknown, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  const whole = Math.floor(value); // a fractional size means whole cells: round down
  return whole >= 1 && whole <= MAX_AXIS ? whole : fallback;
}

/** A usable size from an untrusted report: each bad axis (missing, not a finite number, below 1
 * or above 1000) is replaced by the fallback's; fractions are rounded down. */
export function sanitizeSize(s: Partial<TermSize> | undefined | null, fallback: TermSize): TermSize {
  return { cols: axis(s?.cols, fallback.cols), rows: axis(s?.rows, fallback.rows) };
}

/** The pty size for the friend and, when connected, the helper: the smaller on each axis. */
export function sharedSize(friend: TermSize, helper?: TermSize | null): TermSize {
  const cols = helper ? Math.min(friend.cols, helper.cols) : friend.cols;
  const rows = helper ? Math.min(friend.rows, helper.rows) : friend.rows;
  return { cols: Math.max(MIN_SHARED, cols), rows: Math.max(MIN_SHARED, rows) };
}
