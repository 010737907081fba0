// How long something took or has left, in the words a person reads on a screen. Every duration
// the program shows goes through here.

export type DurationStyle =
  /** "10 minutes", "1 minute", "45 seconds": a wait announced in a sentence. */
  | 'words'
  /** "29:48", rounded to the nearest second: time waited or left on a wait screen. */
  | 'clock'
  /** "0:01" until the time is really up: a countdown that must not show 0:00 early. */
  | 'countdown'
  /** "12 s", "3 min 4 s", "1 h 2 min": how long a recorded session lasted. */
  | 'brief';

export function formatDuration(ms: number, style: DurationStyle = 'words'): string {
  const t = Math.max(0, ms);
  switch (style) {
    case 'words':
      if (t >= 60_000 && t % 60_000 === 0) return `${t / 60_000} minute${t === 60_000 ? '' : 's'}`;
      return `${Math.round(t / 1000)} seconds`;
    case 'clock':
    case 'countdown': {
      const s = style === 'clock' ? Math.round(t / 1000) : Math.ceil(t / 1000);
      return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    case 'brief': {
      const s = Math.round(t / 1000);
      if (s < 60) return `${s} s`;
      if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
      return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    }
  }
}
