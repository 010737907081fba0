// Runs the wizard: feeds people's input and network progress into the pure state machine and
// carries out its effects (connect, confirm, abort, exit), then hands over to the session.
import type { Teardown } from '../teardown';
import { formatDuration } from '../duration';
import { HelpError, toHelpError, type Ending } from '../errors';
import type { EventLog } from '../events';
import { DEFAULT_PORT, parseAddress } from '../net/address';
import { LinkSupervisor, type Conn } from '../net/link';
import { resumeToken } from '../net/returning';
import { localAddresses } from '../net/tcp';
import { handshakeUntil, type Timeouts, type Verifying } from '../net/verify';
import { fullUI } from '../screens/full';
import { plainUI, type WizardUI } from '../screens/plain';
import { clockText, type ViewContext } from '../screens/view';
import { dials, step, type Effect, type Role, type Step, type WizardEvent, type WizardState } from '../screens/wizard';
import { networkOnRequest } from './reach';
import { wayFor, whenListening } from './meet';
import { policed, refusedStart, refusedTranscript, startState } from './choices';
import type { Policy } from '../policy';
import { runFriendSession } from './friend';
import { runHelperSession } from './helper';
import type { Memory } from './memory';
import type { IdentityStore } from './identity';
import type { KnownHelpers } from './known-helpers';
import { admitted, codeShown, helperId, myDetails } from './who';
import type { Terminal } from './terminal';

export interface RunOptions {
  /** Line mode instead of the full-screen views (always so when input is not a terminal). */
  plain: boolean;
  /** The session as lines (friend-lines.ts, helper-lines.ts) rather than painted. */
  lines: boolean;
  role: Role | null;
  reverse: boolean;
  address: string;
  port: number;
  /** The helper meets the friend through this SSH server (--via); the friend's one-time word (--word). */
  via: string;
  word: string;
  startStep: Step;
  waitMs: number;
  /** How long a link that drops mid-session may take to come back; 0 ends the session at once. */
  reconnectMs: number;
  /** The friend's starting choices: may the helper type (changed on step 5 or 6, or Ctrl-Alt-K),
   * share the screen too (--desktop; d on step 5 or 6). */
  helperMayType: boolean;
  shareDesktop: boolean;
  /** The waiting side opens the firewall for its port, and asks the router to forward it
   * (--open-firewall, --map-port; step 3 can change both). */
  openFirewall: boolean;
  mapPort: boolean;
  /** What this computer's administrator allows (policy.ts). */
  policy: Policy;
  timeouts: Timeouts;
  events: EventLog;
  terminal: Terminal;
  teardown: Teardown;
  memory: Memory;
  /** The helper's identity (identity.ts); the helpers the friend knows (known-helpers.ts). */
  identity: IdentityStore;
  helpers: KnownHelpers;
}

export interface Run {
  /** How it all ended; the last screen has shown it already. */
  done: Promise<Ending>;
  /** A signal arrived: end whatever is going on, the same way as the friend's hotkey. */
  stop(signal: NodeJS.Signals): void;
  /** Something unexpected broke inside: end whatever is going on cleanly, with status 1. */
  fail(err: unknown): void;
}

interface Peer {
  conn: Conn;
  v: Verifying;
  /** It confirmed its side (it may do so before the person here chose it). */
  confirmed: boolean;
}

export function run(o: RunOptions): Run {
  const friendDials = o.role !== 'helper' && !o.reverse;
  const address = o.address || (friendDials ? o.memory.lastHelper() : '');
  const memoryNote = friendDials ? o.memory.note() : null;
  const helpersNote = o.role !== 'helper' ? o.helpers.note() : null;
  const { state: first, desktop } = startState({ ...o, address, helperName: o.identity.name() }, o.policy);
  let state: WizardState = { ...first, step: o.startStep,
    wordNeeded: o.address.includes('@') && !o.word };
  let listeningPort: number | null = null;
  let waitStartedAt = Date.now();
  /** The computers that reached a code: the one shown first. The waiting side may get several; the
   * person's choice (the code that matched, or the friend's y) picks one and turns the rest away. */
  let peers: Peer[] = [];
  let chosen: Peer | null = null;
  let choose: (p: Peer) => void = () => {};
  let connectGen = 0;
  let abortConnect: AbortController | null = null;
  /** The network is being started (N on step 4), and what step 4 last said while dialling. */
  let startingNetwork = false;
  /** What the last screen adds once a firewall hole or a router mapping was made (the teardown
   * undoes them). */
  let closedNotes: string[] = [];
  let retryText = '';
  let stopSession: ((why: 'signal' | 'error') => void) | null = null;
  let resolveDone!: (e: Ending) => void;
  const done = new Promise<Ending>((r) => (resolveDone = r));
  let ui: WizardUI | null = null;

  function addPeer(conn: Conn, v: Verifying): Peer {
    const p: Peer = { conn, v, confirmed: false };
    peers.push(p);
    v.onPeerConfirmed(() => {
      p.confirmed = true;
      if (chosen ? chosen === p : peers[0] === p) peerConfirmed(p);
    });
    return p;
  }

  function peerConfirmed(p: Peer) {
    if (peers[0] !== p && chosen !== p) return;
    o.events.emit('peer-confirmed', {});
    dispatch({ type: 'peerConfirmed' });
  }

  function dispatch(e: WizardEvent) {
    e = policed(e, state, o.policy);
    if (e.type === 'ended' && closedNotes.length) e = { ...e, ending: { ...e.ending, message: [e.ending.message, ...closedNotes].join(' ') } };
    if (e.type === 'codeTyped' && !e.invalid) o.events.emit('code-checked', { matches: e.matches });
    const r = step(state, e);
    state = r.state;
    ui?.render(state);
    for (const effect of r.effects) perform(effect);
  }

  function perform(effect: Effect) {
    switch (effect.type) {
      case 'connect':
        void connect(++connectGen);
        break;
      case 'startNetwork':
        void bringUpNetwork(connectGen);
        break;
      case 'cancelConnect':
        connectGen++;
        abortConnect?.abort();
        for (const p of peers) p.v.abort('cancelled', 'the other person stopped');
        peers = [];
        break;
      case 'confirm': {
        const p = peers[effect.which];
        if (!p) break;
        chosen = p;
        for (const q of peers) if (q !== p) q.v.abort('busy', 'the other person chose another connection');
        o.events.emit('confirmed', peers.length > 1 ? { peer: `${p.v.peer.user}@${p.v.peer.host}`, remote: p.v.remote } : {});
        p.v.confirm();
        choose(p);
        // It may have confirmed before it was chosen: that counts now.
        if (p.confirmed && effect.which > 0) queueMicrotask(() => peerConfirmed(p));
        break;
      }
      case 'abort':
        for (const p of peers) p.v.abort(effect.reason, effect.text);
        break;
      case 'saveName':
        try {
          o.identity.setName(effect.name);
        } catch (err) {
          dispatch({ type: 'ended', ending: toHelpError(err) });
        }
        break;
      case 'exit':
        ui?.stop();
        abortConnect?.abort();
        resolveDone(state.ended ?? { exit: effect.exit, message: '', next: '' });
        break;
    }
  }

  /** N on step 4: the network is started the system's way while the dialling goes on (bringup.ts). */
  async function bringUpNetwork(gen: number) {
    startingNetwork = true;
    dispatch({ type: 'activity', text: 'Starting the network... This can take a minute.' });
    const r = await networkOnRequest(parseAddress(state.address, state.port || DEFAULT_PORT), abortConnect?.signal, o.events);
    startingNetwork = false;
    retryText = '';
    if (gen === connectGen && state.step === 4) dispatch({ type: 'activity', text: r.ok ? `${r.text} Connecting...` : r.text, offerNetwork: !r.ok });
  }

  async function connect(gen: number) {
    const abort = (abortConnect = new AbortController());
    let meetingFailed: HelpError | null = null;
    waitStartedAt = Date.now();
    const role = state.role ?? 'friend';
    const other = role === 'friend' ? 'helper' : 'friend';
    const activity = (text: string) => gen === connectGen && dispatch({ type: 'activity', text });
    retryText = '';
    try {
      if (role === 'friend') refusedTranscript(o.policy, true);
      const way = wayFor(state);
      const me = myDetails(role, o.identity, state.helperName, o.events, activity);
      const sup = new LinkSupervisor({ way, events: o.events, teardown: o.teardown });
      if (way.kind === 'dial') activity(`Connecting to your ${other} at ${state.address}...`);
      const picked = new Promise<Peer>((r) => (choose = r));
      const greet = (c: Conn, signal: AbortSignal) => handshakeUntil(c, way.kind === 'dial', me, o.timeouts, signal)
        .then((v) => (role === 'friend' ? admitted(v, o.policy, o.events, activity) : v));
      const { conn, value: v } = await sup.first(greet, {
        waitMs: o.waitMs,
        signal: abortConnect.signal,
        onRetry: (n, why, missing) => {
          // Said again when it changes (a cable plugged in, but no address yet) and every 10th try;
          // not while the network is being started (that says how it goes).
          const offer = missing !== null && missing.layer !== 'name';
          const text = missing ? `${missing.text} ${missing.next}${offer ? ' Or press N to let remote-help start the network.' : ''} ` +
            `remote-help keeps trying for up to ${formatDuration(o.waitMs)}...` : `${why.message} Trying again for up to ${formatDuration(o.waitMs)}...`;
          if (startingNetwork) return;
          if (text !== retryText || n % 10 === 0) dispatch({ type: 'activity', text, offerNetwork: offer });
          retryText = text;
        },
        onListening: (port) => {
          listeningPort = state.via ? null : port;
          closedNotes = whenListening({ port, state, other, giveUp: `Gives up after ${formatDuration(o.waitMs)}.`, events: o.events, teardown: o.teardown,
            say: activity, signal: abort.signal, fail: (e) => ((meetingFailed ??= e), abort.abort()) });
        },
        another: (c, w) => {
          if (gen !== connectGen || chosen || state.step !== 5) return w.abort('busy', 'someone else connected first');
          addPeer(c, w);
          o.events.emit('another-peer', { peer: { user: w.peer.user, host: w.peer.host }, remote: w.remote });
          dispatch({ type: 'anotherPeer', peer: { user: w.peer.user, host: w.peer.host }, code: w.code });
        },
      });
      if (gen !== connectGen) return v.abort('cancelled', 'the other person stopped');
      const shown = addPeer(conn, v);
      dispatch(codeShown(role, v, o.helpers, o.events));
      // The one shown failing before anyone was chosen ends it, as before.
      const p = await Promise.race([picked, shown.v.finished.then(() => shown)]);
      const { peer } = await p.v.finished;
      if (state.ended) return p.conn.stream.destroy();
      ui?.stop();
      const onStarted = () => {
        if (role === 'friend' && dials(state)) o.memory.remember(state.address);
        const id = role === 'friend' && helperId(peer);
        if (id) o.helpers.met(id, peer.identity!.name);
        dispatch({ type: 'sessionStarted' });
      };
      // A link that comes back names the session; SSH with the pinned keys then proves it is the
      // same program.
      const keys = role === 'friend' ? [me.key.publicBlob, peer.publicKey] : [peer.publicKey, me.key.publicBlob];
      const common = { sup, first: p.conn, peer, token: resumeToken(keys[0], keys[1]), terminal: o.terminal, events: o.events,
        teardown: o.teardown, reconnectWindowMs: o.reconnectMs, lines: o.lines, onStarted };
      let ended: Promise<Ending>;
      if (role === 'friend') {
        const f = runFriendSession({ ...common, hostKey: me.key.privateKey, helperMayType: state.helperMayType, shareDesktop: state.shareDesktop,
          desktop, policy: o.policy });
        stopSession = (why) => f.stop(why);
        ended = f.ended;
      } else {
        const h = await runHelperSession({ ...common, privateKey: me.key.privateKey });
        stopSession = (why) => h.stop(why);
        ended = h.ended;
      }
      const outcome = await ended;
      void o.teardown.run(); // the terminal is itself again before the last screen is printed
      o.terminal.output.write('\r\n');
      dispatch({ type: 'ended', ending: outcome });
    } catch (err) {
      if (gen !== connectGen || state.ended) return;
      const e = meetingFailed ?? toHelpError(err);
      if (!(err instanceof HelpError)) o.events.emit('failed', { reason: e.message });
      else o.events.emit('failed', { reason: e.message, code: e.exit });
      // In the wizard, a wrong address or nobody there is fixed on step 3, not by starting over.
      if (o.startStep < 4 && e.exit === 'connect' && state.step === 4 && dials(state))
        return dispatch({ type: 'connectFailed', message: e.message, next: e.next });
      o.teardown.run();
      dispatch({ type: 'ended', ending: e });
    }
  }

  const context = (): ViewContext => ({
    addresses: localAddresses(),
    listeningPort,
    clock: clockText(Date.now(), waitStartedAt, o.waitMs),
    memoryNote,
    helpersNote: state.role === 'friend' ? helpersNote : null,
  });
  const tty = o.terminal.tty();
  ui = !o.plain && tty
    ? fullUI({ ...tty, term: o.terminal.term, utf8: o.terminal.utf8, context, dispatch, log: (text) => o.events.emit('log', { text }) })
    : plainUI({ input: o.terminal.input, output: o.terminal.output, context, dispatch });
  ui.render(state);
  const refused = refusedStart(o, o.policy);
  if (refused) dispatch({ type: 'ended', ending: refused });
  else if (state.step === 4) perform({ type: 'connect' });

  return {
    done,
    stop(signal) {
      o.events.emit('failed', { reason: `received ${signal}` });
      if (stopSession) return stopSession('signal');
      connectGen++;
      for (const p of peers) p.v.abort('cancelled', 'the other person stopped');
      dispatch({ type: 'ended', ending: { exit: 'signal', message: `remote-help was stopped (${signal}). Nothing was shared.`, next: 'Run remote-help again when you are ready.' } });
    },
    fail(err) {
      const e = toHelpError(err);
      o.events.emit('failed', { reason: e.message });
      if (stopSession) return stopSession('error');
      connectGen++;
      for (const p of peers) p.v.abort('protocol-error', 'the other side ran into a problem');
      o.teardown.run();
      dispatch({ type: 'ended', ending: { exit: 'internal', message: e.message, next: e.next } });
    },
  };
}
