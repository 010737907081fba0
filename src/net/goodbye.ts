// How the friend's side tells the helper's why the session ended: an SSH exit-signal whose
// message is one of these (RFC 4254 section 6.10). Both programs import this one table.
export const GOODBYE = {
  hotkey: 'remote-help: the friend ended the session',
  signal: 'remote-help: the friend\'s program was stopped',
  error: 'remote-help: the friend\'s program ran into a problem',
} as const;

export type GoodbyeKind = keyof typeof GOODBYE;

export function goodbyeKind(message: string | undefined): GoodbyeKind | null {
  for (const [kind, text] of Object.entries(GOODBYE)) if (message === text) return kind as GoodbyeKind;
  return null;
}
