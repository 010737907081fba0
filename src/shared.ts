// Names every floor uses: who is who, and how big a terminal is.

/** The person in need of help, or the one helping. */
export type Role = 'friend' | 'helper';

/** A terminal's size in character cells. */
export interface TermSize {
  cols: number;
  rows: number;
}
