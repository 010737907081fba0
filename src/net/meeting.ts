// The meeting point (`helper --via [USER@]HOST[:PORT]`): when neither person can accept a
// connection, both programs dial out to an OpenSSH server the helper can log in to. The helper's
// program logs in with the system's own `ssh` (so ~/.ssh/config, keys, the agent and known_hosts
// work as they always do; it never answers a question for the helper: BatchMode) and has the
// server forward connections back to the loopback port it listens on. The handshake and the
// end-to-end SSH pass through the server unchanged: it carries bytes it cannot read, and a man in
// the middle there is still caught by the spoken code.
//
// Two forms, the smallest that works:
// 1. public: the server listens on the session's port for everyone (sshd_config:
//    `GatewayPorts clientspecified`); the friend dials HOST:PORT as always. Checked by dialling it.
// 2. word: otherwise the server listens on its loopback only, and the friend logs in with a key
//    line that exists for this session (meeting-word.ts), made from a one-time word the helper
//    reads out. The line is added before and removed after; a line a killed program left expires
//    by itself and is swept at the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { HelpError } from '../errors';
import { formatAddress } from './address';
import { formatWord, freshWord, keyLine, LINE_TAG, wordSecrets } from './meeting-word';
import { hostname, processAlive } from '../system';
import { dial } from './tcp';
import { resolveVia, runRemote, sshArgs, sshFailure, type Via } from './meeting-ssh';

export interface Meeting {
  via: Via;
  form: 'public' | 'word';
  /** What the friend types: HOST:PORT (public) or USER@HOST[:PORT] (word). */
  address: string;
  /** The one-time word, formatted (word form only). */
  word: string | null;
  /** Why the public form was not used (word form only), for the log. */
  whyWord: string | null;
  /** Stops the tunnel and removes the key line; resolves when the server was told (bounded). */
  close(): Promise<void>;
}

/** How long a key line may be used to log in: the longest wait plus a long session; it is
 * removed at the end anyway. */
const LINE_HOURS = 12;
const FORWARD_TIMEOUT_MS = 30_000;

/** Runs `ssh -N -R LISTEN:127.0.0.1:LOCAL` until the server says the forward is in place. */
function tunnel(via: Via, listen: string, local: number, signal?: AbortSignal): Promise<ChildProcess> {
  if (signal?.aborted) return Promise.reject(new HelpError('cancelled', 'Stopped waiting.'));
  const child = spawn(via.ssh[0], [...sshArgs(via, ['-v', '-N', '-T', '-o', 'ExitOnForwardFailure=yes', '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=3', '-R', `${listen}:127.0.0.1:${local}`])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(null), FORWARD_TIMEOUT_MS);
    const kill = () => child.kill();
    signal?.addEventListener('abort', kill);
    const fail = (code: number | null) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      child.kill();
      reject(signal?.aborted ? new HelpError('cancelled', 'Stopped waiting.') : sshFailure(via, said, code, listen));
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      said = (said + text).slice(-8192);
      if (/forwarding_success: all expected forwarding replies received/.test(said)) {
        clearTimeout(timer);
        signal?.removeEventListener('abort', kill);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
    child.on('error', (err) => {
      said += `\n${err.message}`;
      fail(null);
    });
    child.on('exit', (code) => fail(code));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill();
  });
}

/** Whether the server's port answers from here: then the friend can reach it too. */
async function reachable(host: string, port: number): Promise<boolean> {
  try {
    const link = await dial({ host, port }, 4000);
    link.stream.destroy();
    return true;
  } catch {
    return false;
  }
}

/**
 * Sets up the meeting point for a helper who listens on 127.0.0.1:`local`, for the session's
 * `port`; `signal` stops it half-way (what was made is undone). `onLost` is called when the tunnel breaks and could not be made again (the caller ends).
 */
export async function openMeeting(o: { via: string; port: number; local: number; signal: AbortSignal; onLost(why: HelpError): void }): Promise<Meeting> {
  const via = await resolveVia(o.via);
  const server = formatAddress({ host: via.host, port: via.port });
  let child = await tunnel(via, `0.0.0.0:${o.port}`, o.local, o.signal);
  let whyWord: string | null = null;
  if (await reachable(via.host, o.port)) {
    return finish({ via, form: 'public', address: formatAddress({ host: via.host, port: o.port }), word: null, whyWord }, `0.0.0.0:${o.port}`, null);
  }
  await stop(child);
  whyWord = `${via.host} port ${o.port} does not answer from outside the server (sshd_config has no GatewayPorts clientspecified, or a firewall there)`;
  // The word form: a fresh word (and so a fresh port) when the port it picks is taken.
  // The line's tag names this program (PID@HOST), so that the next start here can remove a line
  // that a killed one left.
  const tag = `${randomBytes(6).toString('hex')}:${process.pid}@${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}`;
  const stale = await staleLines(via);
  for (let tries = 1; ; tries++) {
    const word = freshWord();
    const secrets = wordSecrets(word);
    const expires = new Date(Date.now() + LINE_HOURS * 3600_000);
    await addLine(via, keyLine(secrets, expires, tag), stale);
    try {
      child = await tunnel(via, `127.0.0.1:${secrets.port}`, o.local, o.signal);
    } catch (err) {
      await removeLine(via, tag);
      if (tries < 3 && !o.signal.aborted && /would not listen/.test((err as HelpError).message)) continue;
      throw err;
    }
    const address = via.port === 22 ? `${via.user}@${via.host}` : `${via.user}@${server}`;
    return finish({ via, form: 'word', address, word: formatWord(word), whyWord }, `127.0.0.1:${secrets.port}`, tag);
  }

  function finish(m: Omit<Meeting, 'close'>, listen: string, tagged: string | null): Meeting {
    let closed = false;
    // A tunnel that breaks (the helper's own network dropped) is made again while the session lasts.
    const watch = (c: ChildProcess) => c.once('exit', () => {
      if (closed) return;
      void (async () => {
        for (let i = 0; i < 30 && !closed; i++) {
          try {
            child = await tunnel(via, listen, o.local);
            if (closed) return void stop(child);
            return watch(child);
          } catch {
            await new Promise((r) => setTimeout(r, 2000));
          }
        }
        if (!closed) o.onLost(new HelpError('connect', `The connection to the meeting point ${server} broke and could not be made again.`,
          'Check this computer\'s network, then start again.'));
      })();
    });
    watch(child);
    let closing: Promise<void> | null = null;
    return {
      ...m,
      // The same promise for every caller: the teardown waits for the removal however it began.
      close: () => (closing ??= (async () => {
        closed = true;
        await stop(child);
        if (tagged) await removeLine(via, tagged);
      })()),
    };
  }
}

/** The tags of key lines that remote-help programs of this machine left on the server and that are
 * gone (killed before they could remove them). */
async function staleLines(via: Via): Promise<string[]> {
  const r = await runRemote(via, `grep -o '${LINE_TAG}[^ ]*' .ssh/authorized_keys 2>/dev/null || true\n`);
  const here = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  return [...r.out.matchAll(new RegExp(`${LINE_TAG}\\d+:([0-9a-f]+:(\\d+)@(\\S+))`, 'g'))]
    .filter((m) => m[3] === here && !processAlive(Number(m[2])))
    .map((m) => m[1]);
}

/** Adds a key line to the server's ~/.ssh/authorized_keys, sweeping expired ones of ours and the
 * `stale` ones first. */
async function addLine(via: Via, line: string, stale: string[]): Promise<void> {
  const sweep = stale.map((tag) => ` && index($0, ":${tag}") == 0`).join('');
  const script = [
    'set -e', 'umask 077', 'cd', 'mkdir -p .ssh', 'f=.ssh/authorized_keys', 'touch "$f"',
    `awk -v now="$(date +%s)" '{ if (match($0, /${LINE_TAG}[0-9]+/) && substr($0, RSTART + ${LINE_TAG.length}, RLENGTH - ${LINE_TAG.length}) + 0 < now) next; if (1${sweep}) print }' "$f" > "$f.remote-help"`,
    `printf '%s\\n' '${line}' >> "$f.remote-help"`,
    'cat "$f.remote-help" > "$f"', 'rm -f "$f.remote-help"', '',
  ].join('\n');
  const r = await runRemote(via, script);
  if (r.code !== 0) {
    const e = sshFailure(via, r.said, r.code, null);
    throw new HelpError('connect', `Your friend cannot reach the session's port on ${via.host}, and remote-help could not add a one-time key for them there: ${e.message}`,
      'Either allow it in /etc/ssh/sshd_config with "GatewayPorts clientspecified" and reload sshd, or give your account on the server a shell and a ~/.ssh/authorized_keys remote-help may change.');
  }
}

/** Removes the session's key line (bounded: the ending does not wait long for a server gone). */
async function removeLine(via: Via, tag: string): Promise<void> {
  const script = [
    'cd', 'f=.ssh/authorized_keys', '[ -f "$f" ] || exit 0',
    `grep -v -F ':${tag}' "$f" > "$f.remote-help" || true`, 'cat "$f.remote-help" > "$f"', 'rm -f "$f.remote-help"', '',
  ].join('\n');
  await runRemote(via, script, 10_000);
}
