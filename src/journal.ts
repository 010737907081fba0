// The system log: a session's start and end, who helped, how it ended, the requests refused and
// where its transcript is, sent the usual way (`logger`, to the syslog socket the journal or a
// syslog daemon reads), so `journalctl -t remote-help` shows them. Where neither runs, or there is
// no logger, nothing is written and nothing fails.
import { spawn } from 'node:child_process';
import type { EventLog, EventName } from './events';
import { systemTool } from './system';

/** Refused requests logged per run at most; the rest are counted in one line at the end. */
const MAX_REFUSED = 20;

function say(line: string): void {
  const logger = systemTool('logger');
  if (!logger) return;
  try {
    const child = spawn(logger, ['-t', 'remote-help', `--id=${process.pid}`, '-p', 'user.notice', '--', line.slice(0, 900)], { stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no way to log: the session goes on
  }
}

const text = (v: unknown) => String(v ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ');

/** What one event says in the system log, or null: not worth a line there. */
function line(event: EventName, f: Record<string, unknown>): string | null {
  switch (event) {
    case 'session-started':
      return f.helper !== undefined ? `session started: ${text(f.helper)} is helping on this computer (shell PID ${text(f.pid)}; ` +
        (f.identity ? `helper identity ${text(f.identity)}, "${text(f.name)}")` : 'the helper gave no identity)')
        : `session started: helping ${text(f.friend)}`;
    case 'session-ended':
      return `session ended (${text(f.reason)}): ${text(f.message)}`;
    case 'request-refused':
      return `refused a request of the helper: ${text(JSON.stringify(f))}`;
    case 'transcript':
      return f.path ? `transcript: ${text(f.path)}` : `no transcript: ${text(f.error)}`;
    case 'desktop':
      return f.shared && f.display ? `screen shared (display ${text(f.display)})` : null;
    case 'helper-refused':
      return `refused a helper the policy does not name: identity ${text(f.identity ?? 'none')}${f.name ? `, "${text(f.name)}"` : ''}`;
    case 'failed':
      return `failed: ${text(f.reason)}`;
    default:
      return null;
  }
}

/** The events log, with what belongs in the system log also sent there. */
export function withJournal(events: EventLog): EventLog {
  let refused = 0;
  return {
    emit(event, fields = {}) {
      events.emit(event, fields);
      if (event === 'request-refused' && ++refused > MAX_REFUSED) return;
      const l = line(event, fields);
      if (l) say(l);
    },
    close() {
      if (refused > MAX_REFUSED) say(`refused ${refused - MAX_REFUSED} more requests of the helper`);
      events.close();
    },
  };
}
