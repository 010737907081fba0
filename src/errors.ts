// Errors that reach a person: each carries a code, a plain-language message and what to do next.
// One dispatcher (cli.ts) prints them and maps the code to the exit status documented in README.

export const EXIT = {
  ok: 0, // the session ended normally (the shell exited, or a side left with ~.)
  internal: 1, // something unexpected inside remote-help
  usage: 2, // bad command line
  connect: 3, // could not connect, or nobody came within the waiting time
  code: 4, // the code did not match or was not confirmed
  hotkey: 5, // the friend ended the session with the hotkey
  lost: 6, // the connection was lost during the session
  protocol: 7, // the other side is not remote-help or broke the protocol
  cancelled: 8, // a person cancelled before the session started
  signal: 9, // ended by a signal (SIGHUP, SIGTERM, SIGINT)
} as const;

export type ExitCode = keyof typeof EXIT;

export class HelpError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    readonly next: string = '',
  ) {
    super(message);
    this.name = 'HelpError';
  }
}

/** Turns anything thrown into a HelpError a person can read. */
export function toHelpError(err: unknown): HelpError {
  if (err instanceof HelpError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new HelpError(
    'internal',
    `remote-help ran into an unexpected problem (${detail}).`,
    'Start it again. If it keeps happening, run it with --events FILE and show that file to your helper.',
  );
}
