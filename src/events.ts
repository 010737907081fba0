// The event log: one JSON object per line for each thing that happens. It is the start of the
// friend's audit trail and what tests read. Secrets (private keys) never go into it.
import * as fs from 'node:fs';

export type EventName =
  | 'listening'
  | 'connecting'
  | 'network'
  | 'network-start'
  | 'firewall'
  | 'port-mapped'
  | 'meeting'
  | 'desktop'
  | 'connected'
  | 'rejected-connection'
  | 'code-shown'
  | 'identity'
  | 'helper-refused'
  | 'another-peer'
  | 'code-checked'
  | 'confirmed'
  | 'peer-confirmed'
  | 'ssh-ready'
  | 'session-started'
  | 'request-refused'
  | 'resized'
  | 'transcript'
  | 'keyboard'
  | 'helper-joined'
  | 'helper-lost'
  | 'helper-back'
  | 'helper-message'
  | 'helper-resync'
  | 'announced'
  | 'file-asked'
  | 'file-start'
  | 'file-end'
  | 'file-copy'
  | 'screen-reader'
  | 'control-rejected'
  | 'reconnecting'
  | 'relinked'
  | 'session-ended'
  | 'leftovers'
  | 'failed'
  | 'log';

export interface EventLog {
  emit(event: EventName, fields?: Record<string, unknown>): void;
  close(): void;
}

/** Appends events synchronously, so the log survives the process being killed right after. */
export function openEventLog(file: string | undefined): EventLog {
  let fd: number | null = null;
  if (file) fd = fs.openSync(file, 'a', 0o600);
  return {
    emit(event, fields = {}) {
      if (fd === null) return;
      const line = JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n';
      try {
        fs.writeSync(fd, line);
      } catch {
        // A full or read-only disk must not end the session; the log is best effort.
      }
    },
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}
