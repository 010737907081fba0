// How a session or a run ended, in words for the person and as an exit status.
import type { ExitCode } from '../errors';

export interface Outcome {
  exit: ExitCode;
  message: string;
  next: string;
}

export const AGAIN = 'To start again, run remote-help.';
