// How things end, for a person: what happened in plain words, what to do next, and the exit
// status. One shape (Ending) for every ending: a session over, a failure thrown as a HelpError,
// the wizard's last screen. One dispatcher (cli.ts) prints it and exits with its status.

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
  policy: 10, // this computer's policy does not allow it, cannot be used, or ended the session
} as const;

export type ExitCode = keyof typeof EXIT;

export interface Ending {
  exit: ExitCode;
  message: string;
  next: string;
}

/** What most endings suggest next. */
export const AGAIN = 'To start again, run remote-help.';

/** An ending thrown from where it happened to where it is shown. */
export class HelpError extends Error implements Ending {
  constructor(
    readonly exit: ExitCode,
    message: string,
    readonly next: string = '',
  ) {
    super(message);
    this.name = 'HelpError';
  }
}

/** Turns anything thrown into an ending a person can read: never a stack trace. */
export function toHelpError(err: unknown): HelpError {
  if (err instanceof HelpError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new HelpError(
    'internal',
    `remote-help ran into an unexpected problem (${detail}).`,
    'Start it again. If it keeps happening, run it with --events FILE and show that file to your helper.',
  );
}
