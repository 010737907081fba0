// What a friend's session is handed: what records it, and what one connection of the helper
// brings. Shared by the session (friend-session.ts), its wiring (src/app/friend.ts) and the
// transcript.
import type { Duplex } from 'node:stream';
import type { TermSize } from './size';

/** What the session records; transcript.ts writes it as asciicast. */
export interface SessionRecord {
  output(data: Uint8Array): void;
  helperInput(data: Uint8Array): void;
  resize(size: TermSize): void;
  marker(label: string): void;
}

/** What one connection of the helper brings: its shell channel, its control channel (opened
 * before the shell by the helper's program; null for other clients), and its terminal. */
export interface HelperLink {
  channel: Duplex;
  control: Duplex | null;
  size: TermSize | null;
  term?: string | null;
}
