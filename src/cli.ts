// The command line (commander): subcommands and options, and the one place that turns an outcome
// or an error into words on the screen and an exit status.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, HelpError, toHelpError, type Ending } from './errors';
import { openEventLog, type EventLog } from './events';
import { LINGER_MAX_MS } from './net/goodbye';
import { DEFAULT_TIMEOUTS } from './net/verify';
import { DEFAULT_PORT, parsePort } from './net/address';
import { checkDialAddress, isMeetingAddress, normalizeWord, WORD_LENGTH } from './net/meeting-word';
import { fileMemory } from './app/memory';
import { identityStore } from './app/identity';
import { knownHelpers } from './app/known-helpers';
import { checkName } from './net/messages';
import { replayTranscript } from './app/replay';
import { listTranscripts } from './app/transcripts';
import { run, type Run } from './app/run';
import { processTerminal } from './app/terminal';
import { sessionView, type SessionView } from './app/screen-reader';
import { Teardown } from './teardown';
import { loadPolicy } from './policy';
import { withJournal } from './journal';
import type { Role, Step } from './screens/wizard';

const EXIT_HELP = `
Exit status:
  0  the session ended normally (the shell ended, or someone left with ~.)
  1  remote-help ran into an unexpected problem
  2  bad usage (an unknown option, a bad port or address)
  3  could not connect, or nobody connected within the waiting time
  4  the code did not match or was not confirmed
  5  the friend ended the session with Ctrl-Alt-C or F12
  6  the connection was lost during the session
  7  the other side is not remote-help or broke the protocol
  8  cancelled before the session started
  9  stopped by a signal (SIGHUP, SIGTERM, SIGINT)
 10  this computer's policy (/etc/remote-help/policy.conf) does not allow it, cannot be
     used, or ended the session at its time limit`;

interface Common {
  plain?: boolean;
  session?: SessionView;
  events?: string;
  wait: number;
  reconnect: number;
  viewOnly?: boolean;
  desktop?: boolean;
  openFirewall?: boolean;
  mapPort?: boolean;
}

/** A port to wait on: 1 to 65535, or 0 for one the system picks (reported in the `listening` event). */
function portArg(text: string): number {
  const n = text.trim() === '0' ? 0 : parsePort(text);
  if (n === null) throw new InvalidArgumentError('a port is a number from 1 to 65535 (0: any free port).');
  return n;
}

function reconnectArg(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || n > 24 * 60)
    throw new InvalidArgumentError('give the time in minutes, e.g. 10, or 0 for no reconnecting (at most 1440).');
  return n;
}

function minutesArg(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0) || n > 24 * 60)
    throw new InvalidArgumentError('give the waiting time in minutes, e.g. 30 (at most 1440).');
  return n;
}

function withCommon(c: Command): Command {
  return c
    .option('--plain', 'line mode: numbered prompts, no full-screen drawing, and the session as lines (dumb terminals, screen readers)')
    .addOption(new Option('--session <view>', 'how the shared shell is shown: "screen" (painted, a status line on the last row) or "lines" (output as it comes, changes said as lines); default: lines with --plain or when a console screen reader runs').choices(['screen', 'lines']))
    .option('--events <file>', 'append one JSON object per line for each thing that happens')
    .addOption(new Option('--wait <minutes>', 'give up waiting for the other side after this long').default(30).argParser(minutesArg))
    .addOption(new Option('--reconnect <minutes>', 'when the link drops mid-session, how long to wait for it to come back (0: end at once)').default(10).argParser(reconnectArg))
    .option('--open-firewall', 'when waiting: open this computer\'s firewall for the port, for this session only')
    .option('--map-port', 'when waiting: ask the home router to forward the port (UPnP or NAT-PMP), for this session only');
}

export function buildProgram(start: (o: StartOptions) => void): Command {
  const program = withCommon(new Command('remote-help'))
    .description('Help a friend fix their Linux machine over the phone: one shared shell, verified with a code read aloud.')
    .addHelpText('after', EXIT_HELP)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .option('--port <n>', 'the port to wait on, and the one to connect to when an address has none', portArg, DEFAULT_PORT)
    .action((opts: Common & { port: number }) => start({ ...common(opts), role: null, reverse: false, address: '', port: opts.port, via: '', word: '', startStep: 1 }));

  withCommon(program.command('helper'))
    .description('help a friend: wait for them to connect (or connect to them with --reverse)')
    .option('--port <n>', 'port to wait on', portArg, DEFAULT_PORT)
    .option('--reverse <address>', 'connect to a friend who waits (ADDRESS[:PORT], IPv6 as [ADDRESS]:PORT)')
    .option('--via <server>', 'meet your friend through an SSH server you can log in to ([USER@]HOST[:PORT] or a ~/.ssh/config alias): when neither of you can accept connections')
    .option('--name <name>', 'the name your friends see, like "Alex, your nephew" (kept for next time)', nameArg)
    .option('--new-identity', 'replace your helper identity with a new one: friends then see you as a new helper')
    .action((opts: Common & { port: number; reverse?: string; via?: string; name?: string; newIdentity?: boolean }) => {
      const address = opts.reverse ?? '';
      if (address && isMeetingAddress(address)) throw new HelpError('usage', `"${address}" is a meeting point: the helper gives it with --via.`, 'Use --via USER@HOST, or --reverse ADDRESS[:PORT].');
      if (address) checkAddress(address, opts.port || DEFAULT_PORT);
      if (address && opts.via) throw new HelpError('usage', 'With --via both sides connect to the server: --reverse does not go with it.', 'Leave out one of them.');
      start({ ...common(opts), role: 'helper', reverse: Boolean(opts.reverse), address, port: opts.port, via: opts.via ?? '', word: '', startStep: 4,
        name: opts.name, newIdentity: opts.newIdentity });
    });

  withCommon(program.command('friend'))
    .description('get help: connect to your helper (or wait for them with --reverse)')
    .argument('[address]', "the helper's address: ADDRESS[:PORT], IPv6 as [ADDRESS]:PORT, or a meeting point USER@HOST[:PORT]")
    .option('--word <word>', 'the one-time word your helper reads out with a meeting point (USER@HOST)')
    .option('--port <n>', 'port to wait on with --reverse', portArg, DEFAULT_PORT)
    .option('--reverse', 'wait for the helper to connect to you')
    .option('--view-only', 'the helper starts watching only; Ctrl-Alt-K lets them type')
    .option('--desktop', 'share the screen too (a graphical desktop, with x11vnc), not only the shell')
    .action((address: string | undefined, opts: Common & { port: number; reverse?: boolean; word?: string }) => {
      if (opts.reverse && address) throw new HelpError('usage', 'With --reverse the friend waits: give no address.', 'Use --port to choose the port.');
      if (address) checkAddress(address, DEFAULT_PORT);
      const word = opts.word === undefined ? '' : normalizeWord(opts.word);
      if (word === null) throw new HelpError('usage', `"${opts.word}" is not a one-time word: it has ${WORD_LENGTH} letters and digits, like ABCD-EF12.`, 'Check it with your helper.');
      const startStep: Step = opts.reverse || (address && (word || !isMeetingAddress(address))) ? 4 : 3;
      start({ ...common(opts), role: 'friend', reverse: Boolean(opts.reverse), address: address ?? '', port: opts.reverse ? opts.port : DEFAULT_PORT, via: '', word, startStep });
    });

  program.command('transcripts')
    .description("list the transcripts of sessions on this machine (the friend's side keeps one per session)")
    .action(() => listTranscripts());

  program.command('replay')
    .description('play a transcript back in this terminal, with its timing (Ctrl-C stops it)')
    .argument('<file>', 'a transcript (see: remote-help transcripts)')
    .option('--speed <n>', 'play faster (2) or slower (0.5)', positiveArg, 1)
    .option('--max-idle <seconds>', 'shorten longer pauses to this', secondsArg, 2)
    .option('--markers', 'also show what remote-help noted (helper connected, keyboard taken, ...) on the last row, and list it at the end')
    .option('--keys', 'also show what the helper typed (even at a password prompt) on the last row, and list it at the end')
    .option('--instant', 'no pauses at all')
    .option('--no-wait', 'the same as --instant')
    .action((file: string, opts: { speed: number; maxIdle: number; markers?: boolean; keys?: boolean; instant?: boolean; wait: boolean }) => {
      // A bad FILE throws a usage HelpError here, before playing starts; errors while playing
      // reach the uncaughtException handler in main().
      void replayTranscript(file, { speed: opts.speed, maxIdle: opts.maxIdle, markers: Boolean(opts.markers), keys: Boolean(opts.keys), instant: Boolean(opts.instant) || !opts.wait });
    });
  return program;
}

function nameArg(text: string): string {
  const bad = checkName(text.trim());
  if (bad) throw new InvalidArgumentError(`${bad}: choose a short name, like "Alex, your nephew".`);
  return text.trim();
}

function positiveArg(text: string): number {
  const n = Number(text);
  if (!(n > 0) || n > 1000) throw new InvalidArgumentError('give a number above 0, e.g. 2 or 0.5.');
  return n;
}

function secondsArg(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n >= 0)) throw new InvalidArgumentError('give a number of seconds, e.g. 2.');
  return n;
}

function checkAddress(address: string, port: number) {
  checkDialAddress(address, port); // throws a usage HelpError with the reason
}

interface StartOptions {
  plain: boolean;
  session?: SessionView;
  events?: string;
  waitMs: number;
  reconnectMs: number;
  helperMayType: boolean;
  shareDesktop: boolean;
  openFirewall: boolean;
  mapPort: boolean;
  role: Role | null;
  reverse: boolean;
  address: string;
  port: number;
  via: string;
  word: string;
  startStep: Step;
  /** The helper's --name and --new-identity. */
  name?: string;
  newIdentity?: boolean;
}

function common(o: Common) {
  return {
    plain: Boolean(o.plain),
    session: o.session,
    events: o.events,
    waitMs: Math.round(o.wait * 60_000),
    reconnectMs: Math.round(o.reconnect * 60_000),
    helperMayType: !o.viewOnly,
    shareDesktop: Boolean(o.desktop),
    openFirewall: Boolean(o.openFirewall),
    mapPort: Boolean(o.mapPort),
  };
}

function report(e: Ending): void {
  const lines = [`remote-help: ${e.message}`];
  if (e.next) lines.push(e.next);
  process.stderr.write(lines.join('\n') + '\n');
}

/** How long the teardown's slow steps (a goodbye on its way out: goodbye.ts) may keep the process. */
const TEARDOWN_MS = LINGER_MAX_MS + 1000;
/** How long a session has to end itself after an unexpected error before we leave anyway. */
const FAIL_MS = 1000;

export function main(argv: string[]): void {
  const teardown = new Teardown();
  let events: EventLog | null = null;
  let running: Run | null = null;
  let leaving = false;
  /** The one way out, for every ending, expected or not: the teardown runs (the shared shell dies
   * first), then the process exits with the ending's status. `shown`: the person has already
   * read why (the last screen, commander's own message). */
  const leave = (ending: Ending, shown: boolean) => {
    if (leaving) return;
    leaving = true;
    if (!shown) report(ending);
    process.exitCode = EXIT[ending.exit];
    const exit = () => {
      for (const f of teardown.failures) events?.emit('failed', { reason: `teardown step "${f.step}": ${f.error}` });
      events?.close();
      // Once what is written has been flushed; pending sockets or timers must not keep us.
      setImmediate(() => process.exit(EXIT[ending.exit]));
    };
    setTimeout(exit, TEARDOWN_MS).unref();
    void teardown.run().then(exit);
  };
  let failing = false;
  const unexpected = (err: unknown) => {
    events?.emit('failed', { reason: String(err && (err as Error).message) });
    // Never a stack trace on the friend's screen: a running session ends the way the hotkey ends
    // it (shell killed, helper told, terminal restored) and says so; if even that does not finish
    // in time, the teardown runs and we leave anyway.
    if (running && !failing && !leaving) {
      failing = true;
      running.fail(err);
      setTimeout(() => leave(toHelpError(err), false), FAIL_MS).unref();
      return;
    }
    leave(toHelpError(err), false);
  };
  const start = (o: StartOptions) => {
    const policy = loadPolicy(); // a policy that cannot be used stops everything here, said why
    events = withJournal(openEventLog(o.events));
    const identity = identityStore();
    // Before anything starts: a bad identity file is said here, and the wizard starts from the name.
    if (o.newIdentity) events.emit('identity', { replaced: true, fingerprint: identity.load(true).fingerprint });
    if (o.name) identity.setName(o.name);
    const terminal = processTerminal();
    const { view, reader } = sessionView(o.session, o.plain);
    if (reader) events.emit('screen-reader', { reader, session: view });
    const waitMs = Math.min(o.waitMs, policy.maxWaitMs ?? Infinity);
    const r = (running = run({ ...o, lines: view === 'lines', waitMs, policy, timeouts: DEFAULT_TIMEOUTS, events, terminal, teardown,
      memory: fileMemory(), identity, helpers: knownHelpers() }));
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => r.stop(sig));
    r.done.then((ending) => leave(ending, true), unexpected);
  };
  // A closed terminal (SIGHUP) or a closed pipe (`| head`) must not turn into a crash report.
  process.stdout.on('error', () => {});
  process.on('uncaughtException', unexpected);
  try {
    buildProgram(start).parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has said what was wrong (or printed the help asked for)
      leave({ exit: err.exitCode === 0 ? 'ok' : 'usage', message: '', next: '' }, true);
      return;
    }
    const e = toHelpError(err);
    leave(e.exit === 'internal' ? { exit: 'usage', message: e.message, next: e.next } : e, false);
  }
}
